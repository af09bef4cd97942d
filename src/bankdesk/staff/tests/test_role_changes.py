"""Role changes under four eyes: one administrator asks, another decides, both on the audit chain;
nobody decides their own request or a request about themselves."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, transaction
from django.utils import timezone

from bankdesk.conftest import ApiClient
from bankdesk.lib.errors import InvalidInput
from bankdesk.security.audit import audit_verify
from bankdesk.security.models import AuditEntry
from bankdesk.staff.choices import Role, RoleChangeStatus
from bankdesk.staff.errors import InvalidRole, RoleChangeConflict, RoleChangeRefused
from bankdesk.staff.models import RoleChangeRequest, User
from bankdesk.staff.role_changes import (
    role_change_approve,
    role_change_reject,
    role_change_request,
    role_change_withdraw,
)
from bankdesk.staff.services import configuration_admins

pytestmark = pytest.mark.django_db


@pytest.fixture
def second_admin(make_staff: Callable[..., User]) -> User:
    return make_staff("admin2", Role.ADMIN)


def _unchanged(user: User, role: str) -> None:
    user.refresh_from_db()
    assert user.role == role


# --- the rule, in the services -------------------------------------------------------------


def test_a_second_administrator_approves_and_the_change_applies_with_both_steps_audited(
    admin_user, second_admin, agent
):
    change = role_change_request(
        user=agent, role=Role.AUDITOR, reason="调任稽核部", actor=admin_user
    )
    _unchanged(agent, Role.AGENT)  # asking changes nothing
    assert (change.role_before, change.role_requested) == (Role.AGENT, Role.AUDITOR)

    role_change_approve(change=change, actor=second_admin, note="核对调令")

    _unchanged(agent, Role.AUDITOR)
    change.refresh_from_db()
    assert change.status == RoleChangeStatus.APPROVED and change.decided_by == second_admin
    asked, approved, applied = AuditEntry.objects.filter(action__startswith="staff.role_change")
    assert (asked.action, asked.actor_id, asked.object_id) == (
        "staff.role_change_request",
        admin_user.pk,
        str(change.pk),
    )
    assert asked.reason == "调任稽核部"
    assert (approved.action, approved.actor_id) == ("staff.role_change_approve", second_admin.pk)
    assert (applied.action, applied.object_type, applied.object_id) == (
        "staff.role_change",
        "staff.user",
        str(agent.pk),
    )
    assert applied.actor_id == second_admin.pk and list(applied.fields) == ["role"]
    assert audit_verify().is_intact


def test_an_administrator_cannot_approve_their_own_request(admin_user, agent):
    change = role_change_request(user=agent, role=Role.SUPERVISOR, reason="晋升", actor=admin_user)
    with pytest.raises(RoleChangeRefused) as refused:
        role_change_approve(change=change, actor=admin_user)
    assert refused.value.code == "role_change_own_request"
    _unchanged(agent, Role.AGENT)
    change.refresh_from_db()
    assert change.status == RoleChangeStatus.PENDING
    assert not AuditEntry.objects.filter(action="staff.role_change_approve").exists()


def test_an_administrator_asking_for_their_own_new_role_needs_another_to_approve_it(
    admin_user, second_admin, client
):
    change = role_change_request(
        user=admin_user, role=Role.AUDITOR, reason="转岗稽核", actor=admin_user
    )
    with pytest.raises(RoleChangeRefused):
        role_change_approve(change=change, actor=admin_user)
    _unchanged(admin_user, Role.ADMIN)

    role_change_approve(change=change, actor=second_admin)

    admin_user.refresh_from_db()
    assert admin_user.role == Role.AUDITOR
    # An auditor reads through the console and the API: the admin screens close to them.
    assert not admin_user.is_staff and not admin_user.is_superuser
    assert not admin_user.groups.filter(pk=configuration_admins().pk).exists()
    assert not admin_user.has_perm("staff.change_user")


def test_nobody_decides_a_request_about_themselves(admin_user, second_admin):
    """Not to approve one's own promotion, nor to reject one's own demotion."""
    change = role_change_request(
        user=second_admin, role=Role.AGENT, reason="离岗", actor=admin_user
    )
    for decide in (role_change_approve, role_change_reject):
        with pytest.raises(RoleChangeRefused) as refused:
            decide(change=change, actor=second_admin, note="不同意")
        assert refused.value.code == "role_change_own_role"
    _unchanged(second_admin, Role.ADMIN)


def test_giving_someone_the_administrator_role_opens_the_admin_screens_to_them(
    admin_user, second_admin, agent
):
    change = role_change_request(user=agent, role=Role.ADMIN, reason="系统管理员", actor=admin_user)
    role_change_approve(change=change, actor=second_admin)
    agent.refresh_from_db()
    assert agent.role == Role.ADMIN and agent.is_staff and not agent.is_superuser
    assert agent.has_perm("staff.change_team")
    fields = AuditEntry.objects.get(action="staff.role_change").fields
    assert sorted(fields) == ["groups", "is_staff", "role"]


@pytest.mark.parametrize(
    "role", [Role.AGENT, Role.SUPERVISOR, Role.COMPLAINT_OFFICER, Role.AUDITOR]
)
def test_only_administrators_ask_for_and_decide_role_changes(make_staff, admin_user, agent, role):
    someone = make_staff("someone", role)
    with pytest.raises(RoleChangeRefused):
        role_change_request(user=agent, role=Role.AUDITOR, reason="我想", actor=someone)
    change = role_change_request(user=agent, role=Role.AUDITOR, reason="调岗", actor=admin_user)
    with pytest.raises(RoleChangeRefused):
        role_change_approve(change=change, actor=someone)
    _unchanged(agent, Role.AGENT)


def test_an_administrator_switched_off_cannot_decide(admin_user, second_admin, agent):
    change = role_change_request(user=agent, role=Role.AUDITOR, reason="调岗", actor=admin_user)
    User.objects.filter(pk=second_admin.pk).update(is_active=False)
    second_admin.refresh_from_db()
    with pytest.raises(RoleChangeRefused):
        role_change_approve(change=change, actor=second_admin)
    _unchanged(agent, Role.AGENT)


def test_one_request_per_person_awaits_a_decision_at_a_time(admin_user, second_admin, agent):
    role_change_request(user=agent, role=Role.AUDITOR, reason="调岗", actor=admin_user)
    with pytest.raises(RoleChangeConflict) as conflict:
        role_change_request(user=agent, role=Role.SUPERVISOR, reason="晋升", actor=second_admin)
    assert conflict.value.code == "role_change_pending"
    assert RoleChangeRequest.objects.count() == 1


@pytest.mark.parametrize(
    ("role", "reason", "error"),
    [
        (Role.AGENT, "调岗", InvalidRole),  # the role they have
        ("root", "调岗", InvalidRole),
        (Role.AUDITOR, "  ", InvalidInput),
        (Role.AUDITOR, "理由" * 251, InvalidInput),
        (Role.AUDITOR, "调\x00岗", InvalidInput),
    ],
)
def test_a_request_that_could_never_be_granted_is_refused(admin_user, agent, role, reason, error):
    with pytest.raises(error):
        role_change_request(user=agent, role=role, reason=reason, actor=admin_user)
    assert not RoleChangeRequest.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="staff.role_change").exists()


def test_an_approval_after_the_role_changed_another_way_is_refused(admin_user, second_admin, agent):
    change = role_change_request(user=agent, role=Role.AUDITOR, reason="调岗", actor=admin_user)
    User.objects.filter(pk=agent.pk).update(role=Role.SUPERVISOR)
    with pytest.raises(RoleChangeConflict) as conflict:
        role_change_approve(change=change, actor=second_admin)
    assert conflict.value.code == "role_changed_since_request"
    _unchanged(agent, Role.SUPERVISOR)


def test_a_rejection_says_why_and_leaves_the_role(admin_user, second_admin, agent):
    change = role_change_request(user=agent, role=Role.AUDITOR, reason="调岗", actor=admin_user)
    with pytest.raises(InvalidInput):
        role_change_reject(change=change, actor=second_admin, note="")
    role_change_reject(change=change, actor=second_admin, note="未见调令")
    _unchanged(agent, Role.AGENT)
    change.refresh_from_db()
    assert (change.status, change.decision_note) == (RoleChangeStatus.REJECTED, "未见调令")
    entry = AuditEntry.objects.get(action="staff.role_change_reject")
    assert entry.actor_id == second_admin.pk and entry.reason == "未见调令"
    with pytest.raises(RoleChangeConflict):
        role_change_approve(change=change, actor=second_admin)
    _unchanged(agent, Role.AGENT)


def test_only_the_administrator_who_asked_may_withdraw(admin_user, second_admin, agent):
    change = role_change_request(user=agent, role=Role.AUDITOR, reason="调岗", actor=admin_user)
    with pytest.raises(RoleChangeRefused):
        role_change_withdraw(change=change, actor=second_admin)
    role_change_withdraw(change=change, actor=admin_user, note="填错了人")
    change.refresh_from_db()
    assert change.status == RoleChangeStatus.WITHDRAWN and change.decided_by == admin_user
    assert AuditEntry.objects.filter(action="staff.role_change_withdraw").exists()
    # A new request for the same person may follow.
    role_change_request(user=agent, role=Role.SUPERVISOR, reason="晋升", actor=admin_user)


# --- the database holds the same line --------------------------------------------------------


def test_the_database_refuses_a_superuser(agent):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=agent.pk).update(is_superuser=True)


def test_the_database_keeps_the_admin_screens_for_administrators(agent, admin_user):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=agent.pk).update(is_staff=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=admin_user.pk).update(is_staff=False)


def test_the_database_refuses_an_approval_by_the_one_who_asked(admin_user, agent):
    change = role_change_request(user=agent, role=Role.AUDITOR, reason="调岗", actor=admin_user)
    with pytest.raises(IntegrityError), transaction.atomic():
        RoleChangeRequest.objects.filter(pk=change.pk).update(
            status=RoleChangeStatus.APPROVED, decided_by=admin_user, decided_at=timezone.now()
        )


# --- the command line: the first administrators, and no superusers ------------------------


def test_createadmin_makes_the_first_two_administrators_then_hands_over_to_four_eyes(
    db, monkeypatch
):
    monkeypatch.setenv("FIRST_ADMIN_PASSWORD", "a long enough passphrase 2026")
    for username in ("ops1", "ops2"):
        call_command(
            "createadmin", "--username", username, "--password-env", "FIRST_ADMIN_PASSWORD"
        )
        assert User.objects.get(username=username).role == Role.ADMIN
    with pytest.raises(CommandError, match="another approve it"):
        call_command("createadmin", "--username", "ops3", "--password-env", "FIRST_ADMIN_PASSWORD")
    assert not User.objects.filter(username="ops3").exists()
    created = AuditEntry.objects.filter(action="staff.create")
    assert [entry.actor_name for entry in created] == ["system", "system"]


def test_createadmin_may_add_one_again_when_only_one_administrator_is_active(
    admin_user, second_admin, monkeypatch
):
    User.objects.filter(pk=second_admin.pk).update(is_active=False)
    monkeypatch.setenv("NEW_ADMIN_PASSWORD", "a long enough passphrase 2026")
    call_command("createadmin", "--username", "ops3", "--password-env", "NEW_ADMIN_PASSWORD")
    assert User.objects.get(username="ops3").is_staff


def test_createsuperuser_is_refused(db, monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a long enough passphrase 2026")
    with pytest.raises(CommandError, match="no superusers"):
        call_command(
            "createsuperuser", "--noinput", "--username", "root", "--email", "root@example.cn"
        )
    assert not User.objects.filter(username="root").exists()


# --- the API: the same services, the same rule ---------------------------------------------


def test_an_admin_cannot_make_itself_auditor_through_the_api(
    admin_user, second_admin, api_for: Callable[[User], ApiClient]
):
    api = api_for(admin_user)
    asked = api.post(
        "/staff/role-changes",
        {"user_id": admin_user.pk, "role": "auditor", "reason": "想看客户"},
    )
    assert asked.status_code == 201, asked.json_body
    assert asked.json_body["status"] == "pending"
    assert (asked.json_body["role_before"], asked.json_body["role_requested"]) == (
        "admin",
        "auditor",
    )
    refused = api.post(f"/staff/role-changes/{asked.json_body['id']}/approve", {})
    assert refused.status_code == 403
    assert refused.json_body["code"] == "role_change_own_request"
    _unchanged(admin_user, Role.ADMIN)
    assert not admin_user.has_perm("customers.view_customer")


def test_a_second_admin_approves_through_the_api(admin_user, second_admin, agent, api_for):
    asked = api_for(admin_user).post(
        "/staff/role-changes", {"user_id": agent.pk, "role": "supervisor", "reason": "晋升主管"}
    )
    approved = api_for(second_admin).post(
        f"/staff/role-changes/{asked.json_body['id']}/approve", {"note": "已核"}
    )
    assert approved.status_code == 200, approved.json_body
    assert approved.json_body["status"] == "approved"
    assert approved.json_body["decided_by"] == "admin2"
    _unchanged(agent, Role.SUPERVISOR)


def test_role_changes_are_read_by_administrators_and_auditors_only(
    admin_user, agent, auditor, supervisor, api_for
):
    role_change_request(user=agent, role=Role.AUDITOR, reason="调岗", actor=admin_user)
    for reader in (admin_user, auditor):
        listed = api_for(reader).get("/staff/role-changes", status="pending")
        assert listed.status_code == 200
        assert [(c["username"], c["role_requested"]) for c in listed.json_body] == [
            ("agent", "auditor")
        ]
    for outsider in (agent, supervisor):
        assert api_for(outsider).get("/staff/role-changes").status_code == 403


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"user_id": 999_999, "role": "auditor", "reason": "调岗"}, 404, "user_id"),
        ({"role": "auditor", "reason": "调岗"}, 422, "user_id"),
        ({"user_id": 1, "role": "root", "reason": "调岗"}, 422, "role"),
        ({"user_id": 1, "role": "auditor", "reason": ""}, 422, "reason"),
    ],
)
def test_a_bad_role_change_request_is_refused_and_nothing_is_stored(
    admin_user, api_for, body, status, field
):
    response = api_for(admin_user).post("/staff/role-changes", body)
    assert response.status_code == status, response.json_body
    assert response.json_body["field"] == field
    assert not RoleChangeRequest.objects.exists()


def test_an_unknown_role_change_is_not_found(admin_user, api_for):
    response = api_for(admin_user).post("/staff/role-changes/424242/approve", {})
    assert response.status_code == 404
