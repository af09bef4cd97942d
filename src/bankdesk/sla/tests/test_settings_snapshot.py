"""The SLA settings each process keeps compiled: reused while unchanged, re-read after any change
to a policy, target, calendar or category — whichever way the change was written."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from bankdesk.sla.choices import DayKind
from bankdesk.sla.models import BusinessCalendar, CalendarDay, SlaClock, SlaTarget
from bankdesk.sla.notices import notice_parse
from bankdesk.sla.services import TargetSpec, calendar_notice_load
from bankdesk.sla.snapshot import sla_settings
from bankdesk.sla.tests.moments import at
from bankdesk.sla.tests.policies import standard_policy_create
from bankdesk.tickets.services import case_create

FIXTURE = Path(__file__).parent / "files" / "notice-2027-TEST-FIXTURE.csv"
pytestmark = pytest.mark.django_db


@pytest.fixture
def standard(db):
    return standard_policy_create(
        TargetSpec(name="Resolution 1 day", metric="resolution", minutes=480)
    )


def _open(agent):
    return case_create(subject="转账失败", channel="phone", actor=agent)


def _resolution_due(case) -> datetime | None:
    return SlaClock.objects.get(case=case, name="Resolution 1 day").due_at


def test_unchanged_settings_are_read_with_one_statement(standard):
    first = sla_settings()
    with CaptureQueriesContext(connection) as queries:
        again = sla_settings()
    assert again is first
    assert len(queries.captured_queries) == 1


def test_a_target_edited_in_the_admin_applies_to_the_next_new_case(standard, agent):
    with time_machine.travel(at(2, 9, 0), tick=False):
        before = _open(agent)
    assert _resolution_due(before) == at(2, 17, 0)
    target = SlaTarget.objects.get(policy=standard)
    target.minutes = 60
    target.save()
    with time_machine.travel(at(2, 9, 0), tick=False):
        after = _open(agent)
    assert _resolution_due(after) == at(2, 10, 0)


def test_a_holiday_added_by_hand_moves_the_next_deadline(standard, agent):
    calendar = BusinessCalendar.objects.get(code="cn-mainland")
    with time_machine.travel(at(2, 16, 0), tick=False):
        _open(agent)  # the settings are now compiled, Tuesday 3 November a working day
    CalendarDay.objects.create(calendar=calendar, date=date(2026, 11, 3), kind=DayKind.HOLIDAY)
    with time_machine.travel(at(2, 16, 0), tick=False):
        case = _open(agent)
    # One working hour on Monday, the holiday skipped, seven more on Wednesday.
    assert _resolution_due(case) == at(4, 16, 0)


def test_a_notice_loaded_in_bulk_reaches_clocks_computed_afterwards(standard, agent):
    calendar = BusinessCalendar.objects.get(code="cn-mainland")
    stale = sla_settings()
    notice = notice_parse(content=FIXTURE.read_bytes(), year=2027)
    calendar_notice_load(calendar=calendar, notice=notice, actor=None)
    assert sla_settings() is not stale
    assert date(2027, 1, 1) in sla_settings().spec(calendar.pk).holidays


def _minutes(settings, policy) -> int:
    """The first target's limit of `policy`, as the settings read it."""
    rules = next(rules for rules in settings.policies if rules.policy.pk == policy.pk)
    return rules.targets[0].minutes


def test_a_change_rolled_back_leaves_no_settings_behind(standard, agent):
    kept = sla_settings()
    seen_inside = []

    def edit_then_fail() -> None:
        with transaction.atomic():
            target = SlaTarget.objects.get(policy=standard)
            target.minutes = 1
            target.save()
            seen_inside.append(_minutes(sla_settings(), standard))
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        edit_then_fail()
    assert seen_inside == [1]  # the uncommitted edit, inside its own transaction
    assert _minutes(sla_settings(), standard) == 480
    assert sla_settings().stamp == kept.stamp
