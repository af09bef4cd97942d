"""The role change requests screen: asked from a person's page, decided on the request's page by
an administrator who is neither the one who asked nor the one it is about."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from bankdesk.conftest import sign_in_with_second_factor
from bankdesk.security.models import AuditEntry
from bankdesk.staff.choices import Role, RoleChangeStatus
from bankdesk.staff.models import RoleChangeRequest, User
from bankdesk.staff.role_changes import role_change_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def second_admin(make_staff: Callable[..., User]) -> User:
    return make_staff("admin2", Role.ADMIN)


def _page(change: RoleChangeRequest) -> str:
    return f"/admin/staff/rolechangerequest/{change.pk}/change/"


def _as(user: User) -> Client:
    return sign_in_with_second_factor(Client(), user)


def test_an_administrator_asks_from_the_request_form(admin_user, agent):
    client = _as(admin_user)
    form = client.get(f"/admin/staff/rolechangerequest/add/?user={agent.pk}").content.decode()
    assert f'<option value="{agent.pk}" selected>' in form
    assert "客服专员" in form  # each person is offered with the role they have now
    response = client.post(
        "/admin/staff/rolechangerequest/add/",
        {"user": agent.pk, "role_requested": "auditor", "reason": "调任稽核部", "_save": "保存"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    change = RoleChangeRequest.objects.get()
    assert (change.role_before, change.role_requested, change.requested_by) == (
        Role.AGENT,
        Role.AUDITOR,
        admin_user,
    )
    assert AuditEntry.objects.filter(action="staff.role_change_request").count() == 1
    agent.refresh_from_db()
    assert agent.role == Role.AGENT


def test_the_request_form_says_why_it_cannot_ask(admin_user, agent):
    response = _as(admin_user).post(
        "/admin/staff/rolechangerequest/add/",
        {"user": agent.pk, "role_requested": "agent", "reason": "调岗", "_save": "保存"},
    )
    assert response.status_code == 200
    assert "该员工已是此角色。" in response.content.decode()
    assert not RoleChangeRequest.objects.exists()


def test_the_request_page_offers_each_administrator_only_the_step_they_may_take(
    admin_user, second_admin, make_staff
):
    third = make_staff("admin3", Role.ADMIN)
    change = role_change_request(
        user=second_admin, role=Role.AGENT, reason="离岗", actor=admin_user
    )
    asker = _as(admin_user).get(_page(change)).content.decode()
    assert 'value="withdraw"' in asker and 'value="approve"' not in asker
    about = _as(second_admin).get(_page(change)).content.decode()
    assert "此申请涉及您本人" in about
    assert 'value="approve"' not in about and 'value="reject"' not in about
    other = _as(third).get(_page(change)).content.decode()
    assert 'value="approve"' in other and 'value="reject"' in other
    assert "<strong>管理员</strong> → <strong>客服专员</strong>" in other  # before → after


def test_a_second_administrator_approves_on_the_request_page(admin_user, second_admin, agent):
    change = role_change_request(user=agent, role=Role.SUPERVISOR, reason="晋升", actor=admin_user)
    response = _as(second_admin).post(_page(change), {"decision": "approve", "note": "已核"})
    assert response.status_code == 302
    agent.refresh_from_db()
    change.refresh_from_db()
    assert agent.role == Role.SUPERVISOR and change.status == RoleChangeStatus.APPROVED
    assert change.decided_by == second_admin and change.decision_note == "已核"


def test_an_approval_posted_by_the_one_who_asked_is_refused_and_changes_nothing(admin_user, agent):
    change = role_change_request(user=agent, role=Role.AUDITOR, reason="调岗", actor=admin_user)
    client = _as(admin_user)
    response = client.post(_page(change), {"decision": "approve"}, follow=True)
    assert "角色变更须由申请人以外的另一位管理员审批。" in response.content.decode()
    agent.refresh_from_db()
    change.refresh_from_db()
    assert agent.role == Role.AGENT and change.status == RoleChangeStatus.PENDING
    assert not AuditEntry.objects.filter(action="staff.role_change_approve").exists()


def test_a_rejection_without_a_note_is_refused(admin_user, second_admin, agent):
    change = role_change_request(user=agent, role=Role.AUDITOR, reason="调岗", actor=admin_user)
    response = _as(second_admin).post(_page(change), {"decision": "reject"}, follow=True)
    assert "请填写理由" in response.content.decode()
    change.refresh_from_db()
    assert change.status == RoleChangeStatus.PENDING


def test_requests_are_neither_edited_nor_deleted_in_the_admin_screens(admin_user, agent):
    change = role_change_request(user=agent, role=Role.AUDITOR, reason="调岗", actor=admin_user)
    client = _as(admin_user)
    assert (
        client.post(f"{_page(change)[: -len('change/')]}delete/", {"post": "yes"}).status_code
        == 403
    )
    client.post(_page(change), {"role_requested": "admin", "reason": "改"})
    change.refresh_from_db()
    assert (change.role_requested, change.reason) == (Role.AUDITOR, "调岗")
