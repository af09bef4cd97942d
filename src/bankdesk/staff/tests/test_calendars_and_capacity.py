"""What routing and service levels need from staff: team and branch calendars, and how many
cases each person may hold on each channel."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db.models import ProtectedError

from bankdesk.conftest import sign_in_with_second_factor
from bankdesk.lib.errors import InvalidInput
from bankdesk.security.models import AuditEntry
from bankdesk.sla.models import BusinessCalendar
from bankdesk.staff.models import Branch, ChannelCapacity
from bankdesk.staff.services import branch_create, channel_capacity_set, team_calendar_set

pytestmark = pytest.mark.django_db


@pytest.fixture
def calendar(db):
    return BusinessCalendar.objects.create(code="shenzhen-office", name="深圳办公日历")


def test_a_team_runs_its_clocks_on_a_calendar(general_team, calendar, admin_user):
    team = team_calendar_set(team=general_team, calendar=calendar, actor=admin_user)
    general_team.refresh_from_db()
    assert general_team.calendar == calendar and team.calendar == calendar
    assert list(calendar.teams.all()) == [general_team]
    entry = AuditEntry.objects.get(action="team.calendar")
    assert entry.actor_id == admin_user.pk and list(entry.fields) == ["calendar"]


def test_setting_the_same_calendar_again_records_nothing(general_team, calendar):
    team_calendar_set(team=general_team, calendar=calendar)
    team_calendar_set(team=general_team, calendar=calendar)
    assert AuditEntry.objects.filter(action="team.calendar").count() == 1
    team_calendar_set(team=general_team, calendar=None)
    general_team.refresh_from_db()
    assert general_team.calendar is None


def test_a_branch_has_its_own_calendar(calendar, admin_user):
    branch = branch_create(code="sz-futian", name="福田支行", calendar=calendar, actor=admin_user)
    assert list(calendar.branches.all()) == [branch]
    assert branch.is_active
    assert AuditEntry.objects.filter(action="branch.create", object_id=str(branch.pk)).exists()


def test_branch_codes_are_unique(calendar):
    branch_create(code="sz-futian", name="福田支行")
    with pytest.raises(ValidationError):
        branch_create(code="sz-futian", name="另一个福田支行")
    assert Branch.objects.count() == 1


def test_a_calendar_in_use_cannot_be_deleted(general_team, calendar):
    team_calendar_set(team=general_team, calendar=calendar)
    with pytest.raises(ProtectedError):
        calendar.delete()
    team_calendar_set(team=general_team, calendar=None)
    branch_create(code="sz-futian", name="福田支行", calendar=calendar)
    with pytest.raises(ProtectedError):
        calendar.delete()


def test_a_channel_capacity_is_set_changed_and_lifted(agent, supervisor):
    channel_capacity_set(user=agent, channel="web_chat", max_open_cases=3, actor=supervisor)
    channel_capacity_set(user=agent, channel="web_chat", max_open_cases=2, actor=supervisor)
    assert list(agent.channel_capacities.values_list("channel", "max_open_cases")) == [
        ("web_chat", 2)
    ]
    assert channel_capacity_set(user=agent, channel="web_chat", max_open_cases=None) is None
    assert not ChannelCapacity.objects.exists()
    entries = AuditEntry.objects.filter(action="staff.channel_capacity", object_id=str(agent.pk))
    assert entries.count() == 3


def test_lifting_a_capacity_that_was_never_set_records_nothing(agent):
    channel_capacity_set(user=agent, channel="phone", max_open_cases=None)
    assert not AuditEntry.objects.filter(action="staff.channel_capacity").exists()


@pytest.mark.parametrize(
    ("channel", "limit", "field"),
    [
        ("pigeon", 3, "channel"),
        ("web_chat", -1, "max_open_cases"),
        ("sms", 40_000, "max_open_cases"),
    ],
)
def test_a_bad_channel_capacity_is_refused(agent, channel, limit, field):
    with pytest.raises(InvalidInput) as raised:
        channel_capacity_set(user=agent, channel=channel, max_open_cases=limit)
    assert raised.value.field == field
    assert not ChannelCapacity.objects.exists()


def test_admins_configure_branches_calendars_and_capacities_in_the_admin_screens(
    client, admin_user, agent, general_team, calendar
):
    branch_create(code="sz-futian", name="福田支行", calendar=calendar)
    channel_capacity_set(user=agent, channel="web_chat", max_open_cases=3)
    sign_in_with_second_factor(client, admin_user)
    assert "福田支行" in client.get("/admin/staff/branch/").content.decode()
    assert client.get("/admin/staff/branch/add/").status_code == 200
    team_page = client.get(f"/admin/staff/team/{general_team.pk}/change/").content.decode()
    assert 'name="calendar"' in team_page and "round_robin_last_user" not in team_page
    user_page = client.get(f"/admin/staff/user/{agent.pk}/change/").content.decode()
    assert "channel_capacities-0-max_open_cases" in user_page
    assert 'name="max_open_cases"' in user_page
