"""A case's SLA clocks kept by the case services, on the seeded mainland calendar
(09:00–17:00 Asia/Shanghai; the week of Monday 2026-11-02 has no holiday)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine

from bankdesk.security.models import AuditEntry
from bankdesk.sla.models import SlaClock, SlaClockPause, SlaPolicy, SlaTarget
from bankdesk.sla.services import TargetSpec, sla_clocks_recompute, sla_policy_create
from bankdesk.sla.tests.moments import SHANGHAI, at
from bankdesk.sla.tests.policies import standard_policy_create
from bankdesk.tickets.choices import CaseStatus
from bankdesk.tickets.services import (
    case_category_change,
    case_create,
    case_merge,
    case_message_add,
    case_status_change,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def standard(db):
    return standard_policy_create(
        TargetSpec(name="First response 1h", metric="first_response", minutes=60),
        TargetSpec(name="Next response 2h", metric="next_response", minutes=120),
        TargetSpec(name="Resolution 1 day", metric="resolution", minutes=480),
    )


@pytest.fixture
def complaints(db):
    return sla_policy_create(
        code="complaints",
        name="Complaints",
        position=10,
        is_complaint=True,
        actor=None,
        targets=[
            TargetSpec(name="Internal 24h", metric="resolution", minutes=24 * 60, basis="calendar"),
            TargetSpec(
                name="Statutory 15 days",
                metric="resolution",
                minutes=15 * 24 * 60,
                basis="calendar",
            ),
        ],
    )


def _clocks(case) -> dict[str, SlaClock]:
    return {clock.name: clock for clock in SlaClock.objects.filter(case=case)}


def _open(text: str = "我的卡被吞了", **kwargs):
    return case_create(subject="吞卡", channel="phone", actor=None, text=text, **kwargs)


def test_a_new_case_starts_the_clocks_of_its_policy(standard):
    with time_machine.travel(at(2, 9, 30), tick=False):
        case = _open()
    clocks = _clocks(case)
    assert set(clocks) == {"First response 1h", "Resolution 1 day"}  # no reply yet to answer
    assert clocks["First response 1h"].due_at == at(2, 10, 30)
    assert clocks["Resolution 1 day"].due_at == at(3, 9, 30)  # 450 minutes Monday, 30 Tuesday
    assert {clock.status for clock in clocks.values()} == {"running"}


def test_a_reply_meets_first_response_and_the_next_customer_message_starts_next_response(
    standard, agent
):
    with time_machine.travel(at(2, 9, 30), tick=False):
        case = _open()
    with time_machine.travel(at(2, 9, 50), tick=False):
        case_message_add(case=case, direction="outbound", text="您好，正在处理", actor=agent)
    with time_machine.travel(at(2, 16, 0), tick=False):
        case_message_add(case=case, direction="inbound", text="还要多久？", actor=None)
    clocks = _clocks(case)
    first = clocks["First response 1h"]
    assert (first.status, first.met_at, first.consumed) == (
        "met",
        at(2, 9, 50),
        timedelta(minutes=20),
    )
    following = clocks["Next response 2h"]
    assert (following.cycle, following.status) == (1, "running")
    assert following.due_at == at(3, 10, 0)  # an hour on Monday, an hour on Tuesday


def test_waiting_for_the_customer_pauses_the_resolution_clock_exactly(standard, agent):
    with time_machine.travel(at(2, 9, 0), tick=False):
        case = _open()
    with time_machine.travel(at(2, 10, 0), tick=False):
        case_status_change(case=case, status=CaseStatus.OPEN, actor=agent)
    with time_machine.travel(at(2, 11, 0), tick=False):
        case_status_change(case=case, status=CaseStatus.PENDING_CUSTOMER, actor=agent)
    resolution = _clocks(case)["Resolution 1 day"]
    assert (resolution.status, resolution.due_at) == ("paused", None)
    assert resolution.consumed == timedelta(hours=2)
    with time_machine.travel(at(4, 15, 0), tick=False):
        case_status_change(case=case, status=CaseStatus.OPEN, actor=agent)
    resolution = _clocks(case)["Resolution 1 day"]
    assert resolution.status == "running"
    assert resolution.due_at == at(5, 13, 0)  # 6 hours left: 2 on Wednesday, 4 on Thursday
    pauses = list(
        SlaClockPause.objects.filter(clock=resolution).values_list(
            "started_at", "ended_at", "status"
        )
    )
    assert pauses == [(at(2, 11), at(4, 15), "pending_customer")]


def test_the_api_shows_each_clock_with_its_state_and_remaining_business_minutes(
    standard, agent_api, agent, general_team
):
    with time_machine.travel(at(2, 9, 0), tick=False):
        case = _open(team=general_team)
    with time_machine.travel(at(2, 16, 30), tick=False):
        body = agent_api.get(f"/cases/{case.pk}").json_body
    clocks = {clock["name"]: clock for clock in body["sla"]}
    assert clocks["First response 1h"]["state"] == "breached"
    assert clocks["First response 1h"]["remaining_business_minutes"] == -390
    assert clocks["Resolution 1 day"]["state"] == "running"
    assert clocks["Resolution 1 day"]["remaining_business_minutes"] == 30
    assert clocks["Resolution 1 day"]["due_at"] == "2026-11-02T09:00:00Z"  # 17:00 in Shanghai


def test_becoming_a_complaint_switches_policy_and_runs_two_resolution_clocks_at_once(
    standard, complaints, categories, agent
):
    with time_machine.travel(at(2, 9, 0), tick=False):
        case = _open()
    with time_machine.travel(at(2, 12, 0), tick=False):
        case_category_change(case=case, category=categories["complaint_fees"], actor=agent)
    clocks = _clocks(case)
    assert {name for name, c in clocks.items() if c.status == "cancelled"} == {
        "First response 1h",
        "Resolution 1 day",
    }
    # Both complaint clocks count from when the bank received the case, not from the change.
    assert clocks["Internal 24h"].due_at == at(3, 9, 0)
    assert clocks["Statutory 15 days"].due_at == at(17, 9, 0)


def test_a_merged_case_cancels_its_clocks(standard, agent):
    with time_machine.travel(at(2, 9, 0), tick=False):
        source, target = _open(), _open()
        case_merge(source=source, target=target, actor=agent)
    assert {c.status for c in _clocks(source).values()} == {"cancelled"}
    assert {c.status for c in _clocks(target).values()} == {"running"}


def test_a_policy_change_reaches_open_cases_only_through_the_audited_recompute(standard, agent):
    with time_machine.travel(at(2, 9, 0), tick=False):
        case = _open()
    target = SlaTarget.objects.get(policy=standard, name="Resolution 1 day")
    target.minutes = 240
    target.save()  # as the admin screen does
    with time_machine.travel(at(2, 9, 30), tick=False):
        case_status_change(case=case, status=CaseStatus.OPEN, actor=agent)  # any change
    assert _clocks(case)["Resolution 1 day"].due_at == at(2, 17, 0)  # still the old terms

    dry = sla_clocks_recompute(actor=agent, reason="new targets", dry_run=True)
    assert (dry.cases, dry.clocks_changed) == (1, 1)
    assert _clocks(case)["Resolution 1 day"].minutes == 480
    assert not AuditEntry.objects.filter(action="sla.clocks_recompute").exists()

    report = sla_clocks_recompute(actor=agent, reason="new targets", policy_code="standard")
    assert (report.cases, report.clocks_changed) == (1, 1)
    clock = _clocks(case)["Resolution 1 day"]
    assert (clock.minutes, clock.due_at) == (240, at(2, 13, 0))
    entry = AuditEntry.objects.get(action="sla.clocks_recompute")
    assert "new targets" in entry.reason and "1 cases, 1 clocks" in entry.reason


def test_a_recompute_needs_a_reason_and_a_known_policy(standard):
    from bankdesk.lib.errors import InvalidInput, NotFound

    with pytest.raises(InvalidInput):
        sla_clocks_recompute(actor=None, reason="  ")
    with pytest.raises(NotFound):
        sla_clocks_recompute(actor=None, reason="x", policy_code="nope")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"targets": []}, "targets"),
        ({"priorities": ["critical"]}, "priorities"),
        ({"channels": ["pigeon"]}, "channels"),
        ({"pause_statuses": ["resolved"]}, "pause_statuses"),
        ({"targets": [TargetSpec(name="x", metric="first_response", minutes=0)]}, "targets"),
        ({"targets": [TargetSpec(name="x", metric="uptime", minutes=5)]}, "targets"),
    ],
)
def test_a_policy_with_bad_terms_is_refused_and_nothing_is_kept(change, field):
    from bankdesk.lib.errors import InvalidInput

    arguments = {
        "code": "bad",
        "name": "Bad",
        "actor": None,
        "targets": [TargetSpec(name="First", metric="first_response", minutes=30)],
        **change,
    }
    with pytest.raises(InvalidInput) as caught:
        sla_policy_create(**arguments)
    assert caught.value.field == field
    assert not SlaPolicy.objects.filter(regulator="").exists()


def test_a_case_raised_at_a_hong_kong_branch_runs_on_the_hong_kong_calendar(standard):
    from bankdesk.sla.models import BusinessCalendar
    from bankdesk.staff.services import branch_create

    branch = branch_create(
        code="hk-central", name="中環分行", calendar=BusinessCalendar.objects.get(code="hk")
    )
    # 2026-12-25 is a Hong Kong holiday and a mainland working day.
    with time_machine.travel(datetime(2026, 12, 24, 17, 0, tzinfo=SHANGHAI), tick=False):
        case = _open(branch=branch)
    clock = _clocks(case)["First response 1h"]
    assert clock.calendar.code == "hk"
    assert clock.due_at.astimezone(SHANGHAI).date().isoformat() > "2026-12-26"


def test_a_case_opened_through_the_api_is_routed_first_and_runs_on_its_team_calendar(
    standard, agent_api, agent, general_team
):
    from bankdesk.sla.models import BusinessCalendar
    from bankdesk.staff.choices import Presence
    from bankdesk.staff.models import User
    from bankdesk.staff.services import team_calendar_set
    from bankdesk.tickets.routing_rules import routing_rule_create

    team_calendar_set(team=general_team, calendar=BusinessCalendar.objects.get(code="24x7"))
    User.objects.filter(pk=agent.pk).update(presence=Presence.AVAILABLE)
    routing_rule_create(name="everything", team=general_team, actor=None, strategy="round_robin")
    with time_machine.travel(at(6, 16, 30), tick=False):  # Friday afternoon
        response = agent_api.post(
            "/cases", {"subject": "周末也要处理", "channel": "app", "text": "急"}
        )
    assert response.status_code == 201, response.json_body
    body = response.json_body
    assert (body["team"]["id"], body["assignee"]["id"]) == (general_team.pk, agent.pk)
    first = next(c for c in body["sla"] if c["metric"] == "first_response")
    assert first["due_at"] == "2026-11-06T09:30:00Z"  # 17:30 Friday: the team works round the clock


def test_an_unknown_or_closed_branch_is_refused(agent_api):
    from bankdesk.staff.services import branch_create

    closed = branch_create(code="old", name="旧网点", is_active=False)
    for branch_id, status in ((999999, 404), (closed.pk, 422)):
        response = agent_api.post(
            "/cases", {"subject": "s", "channel": "branch", "branch_id": branch_id}
        )
        assert (response.status_code, response.json_body["field"]) == (status, "branch_id")
