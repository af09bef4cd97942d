"""The staff user form in the admin screens: what an administrator may change there, and that
every change it makes is on the audit chain."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from bankdesk.conftest import PASSWORD, sign_in_with_second_factor
from bankdesk.customers.models import Customer
from bankdesk.security.models import AuditEntry
from bankdesk.staff.choices import Role
from bankdesk.staff.models import Team, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client: Client, admin_user: User) -> Client:
    return sign_in_with_second_factor(client, admin_user)


# The per-channel capacity rows under the form: none added, none changed.
_NO_CAPACITIES = {
    "channel_capacities-TOTAL_FORMS": "0",
    "channel_capacities-INITIAL_FORMS": "0",
    "channel_capacities-MIN_NUM_FORMS": "0",
    "channel_capacities-MAX_NUM_FORMS": "1000",
}


def _user_form(user: User, **changes: Any) -> dict[str, Any]:
    """Everything the user form posts, as a browser would send it, with `changes` on top."""
    data: dict[str, Any] = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on",
        "display_name": user.display_name,
        "preferred_language": user.preferred_language,
        "max_open_cases": str(user.max_open_cases),
        "teams": [str(pk) for pk in user.teams.values_list("pk", flat=True)],
        "role": user.role,
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
        **_NO_CAPACITIES,
        "_save": "保存",
    }
    if user.is_staff:
        data["is_staff"] = "on"
    data.update(changes)
    return data


def _escalation(user: User) -> dict[str, Any]:
    """The form an administrator would post to make `user` an all-seeing auditor."""
    return _user_form(
        user,
        role=Role.AUDITOR,
        is_staff="on",
        is_superuser="on",
        user_permissions=[
            str(Permission.objects.get(codename=codename).pk)
            for codename in ("view_customer", "change_customer")
        ],
        display_name="改过的名字",
    )


def test_an_admin_cannot_make_itself_auditor_or_superuser_in_the_user_form(
    admin_client: Client, admin_user: User
) -> None:
    response = admin_client.post(
        f"/admin/staff/user/{admin_user.pk}/change/", _escalation(admin_user)
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    admin_user.refresh_from_db()
    assert admin_user.display_name == "改过的名字"  # the form works for what it may change
    assert admin_user.role == Role.ADMIN
    assert not admin_user.is_superuser
    assert not admin_user.user_permissions.exists()
    assert not admin_user.has_perm("customers.view_customer")


def test_an_admin_cannot_make_anyone_auditor_or_superuser_in_the_user_form(
    admin_client: Client, agent: User
) -> None:
    response = admin_client.post(f"/admin/staff/user/{agent.pk}/change/", _escalation(agent))
    assert response.status_code == 302, response.content.decode()[:2000]
    agent.refresh_from_db()
    assert agent.display_name == "改过的名字"
    assert (agent.role, agent.is_staff, agent.is_superuser) == (Role.AGENT, False, False)
    assert not agent.user_permissions.exists()


def test_the_user_form_shows_the_role_but_offers_no_way_to_change_it(
    admin_client: Client, agent: User
) -> None:
    html = admin_client.get(f"/admin/staff/user/{agent.pk}/change/").content.decode()
    assert "客服专员" in html  # the role, shown
    for field in ("role", "is_superuser", "is_staff", "groups", "user_permissions"):
        assert f'name="{field}"' not in html
    assert f"/admin/staff/rolechangerequest/add/?user={agent.pk}" in html


def test_a_new_member_of_staff_added_in_the_admin_screens_is_an_agent(
    admin_client: Client,
) -> None:
    response = admin_client.post(
        "/admin/staff/user/add/",
        {
            "username": "newcomer",
            "usable_password": "true",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "role": Role.AUDITOR,
            "is_superuser": "on",
            "is_staff": "on",
            **_NO_CAPACITIES,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    newcomer = User.objects.get(username="newcomer")
    assert (newcomer.role, newcomer.is_staff, newcomer.is_superuser) == (Role.AGENT, False, False)
    entry = AuditEntry.objects.get(action="staff.user.admin_add", object_id=str(newcomer.pk))
    assert entry.actor_name == "admin"


def test_the_user_forms_changes_are_on_the_audit_chain(
    admin_client: Client, admin_user: User, agent: User, general_team: Team
) -> None:
    cards = Team.objects.create(code="cards", name="信用卡组")
    response = admin_client.post(
        f"/admin/staff/user/{agent.pk}/change/",
        _user_form(agent, display_name="李专员", teams=[str(general_team.pk), str(cards.pk)]),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = AuditEntry.objects.filter(object_type="staff.user", object_id=str(agent.pk)).last()
    assert entry is not None and entry.action == "staff.user.admin_change"
    assert entry.actor_id == admin_user.pk
    assert {"display_name", "teams"} <= set(entry.fields)
    assert "李专员" not in str(entry.fields)  # field names, never values


def test_a_password_set_in_the_admin_screens_is_on_the_audit_chain(
    admin_client: Client, admin_user: User, agent: User
) -> None:
    response = admin_client.post(
        f"/admin/staff/user/{agent.pk}/password/",
        {"password1": "another horse battery", "password2": "another horse battery"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = AuditEntry.objects.filter(object_type="staff.user", object_id=str(agent.pk)).last()
    assert entry is not None and entry.action == "staff.user.admin_change"
    assert entry.actor_id == admin_user.pk and "password" in entry.fields


def test_an_admin_who_tried_to_become_auditor_sees_no_customer_in_the_admin_screens(
    admin_client: Client, admin_user: User, customer: Customer
) -> None:
    """The reviewer's path: escalate in the user form, then read customers in the admin."""
    admin_client.post(f"/admin/staff/user/{admin_user.pk}/change/", _escalation(admin_user))
    for url in (
        "/admin/customers/customer/",
        f"/admin/customers/customer/{customer.pk}/change/",
        f"/admin/customers/customer/?q={customer.customer_number}",
    ):
        html = admin_client.get(url).content.decode()
        assert "王小明" not in html and "13812345678" not in html, url
