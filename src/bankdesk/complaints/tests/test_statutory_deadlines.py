"""Statutory complaint deadlines: regulator profiles as SLA policies running beside the bank's
own, counted in days on the seeded mainland calendar (its 2026 holidays and 调休 working
weekends as the State Council published them), extended only with a supervisor's approval
and a notice to the complainant.

Dates used (Asia/Shanghai, 2026): National Day holiday 1–7 October, with Sunday 20 September
and Saturday 10 October worked; Labour Day 1–5 May with Saturday 9 May worked; Spring Festival
15–23 February.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
import time_machine

from bankdesk.complaints.choices import ExtensionStatus, Step
from bankdesk.complaints.extensions import (
    ExtensionNotAllowed,
    complaint_extension_decide,
    complaint_extension_request,
    statutory_clocks,
)
from bankdesk.complaints.models import Complaint, ComplaintExtension
from bankdesk.complaints.regulators import CN_NFRA, UK_FCA, US_CFPB
from bankdesk.complaints.services import complaint_decide, complaint_owner_set
from bankdesk.lib.errors import InvalidInput, PermissionDenied
from bankdesk.security.models import AuditEntry
from bankdesk.sla.calendar import BusinessCalendarSpec
from bankdesk.sla.choices import ClockStatus
from bankdesk.sla.days import DayCount
from bankdesk.sla.models import BusinessCalendar, SlaClock, SlaPolicy
from bankdesk.sla.selectors import calendar_spec
from bankdesk.staff.choices import Role
from bankdesk.tickets.choices import Direction, EventKind
from bankdesk.tickets.models import CaseEvent, Message
from bankdesk.tickets.services import case_create

pytestmark = pytest.mark.django_db

SHANGHAI_OFFSET = "+08:00"


def local(day: date, hour: int = 0, minute: int = 0) -> datetime:
    return datetime.fromisoformat(f"{day.isoformat()}T{hour:02d}:{minute:02d}:00{SHANGHAI_OFFSET}")


def end_of(day: date) -> datetime:
    """Midnight after `day`, Shanghai time: the last moment of a period ending that day."""
    return local(date.fromordinal(day.toordinal() + 1))


@pytest.fixture
def mainland() -> BusinessCalendarSpec:
    return calendar_spec(calendar=BusinessCalendar.objects.get(code="cn-mainland"))


# -- the counting itself, on the real calendar -------------------------------------------------


@pytest.mark.parametrize(
    ("basis", "received", "days", "last_day"),
    [
        # 15 days from a worked Sunday end on Monday 5 October, a holiday: the period runs on
        # to the first working day after the holiday, Thursday 8 October.
        ("days_working_end", date(2026, 9, 20), 15, date(2026, 10, 8)),
        # …but a period ending on a worked Saturday (调休) ends there.
        ("days_working_end", date(2026, 4, 24), 15, date(2026, 5, 9)),
        # Extended to 30 days from 20 January: 19 February is in Spring Festival; the 24th.
        ("days_working_end", date(2026, 1, 20), 30, date(2026, 2, 24)),
        # …and to 60: Saturday 21 March, so Monday 23 March.
        ("days_working_end", date(2026, 1, 20), 60, date(2026, 3, 23)),
        # Calendar days that do not roll (CFPB): Monday 5 October, holiday or not.
        ("days", date(2026, 9, 20), 15, date(2026, 10, 5)),
        # Working days: 29, 30 Sep; 8, 9, 10 (worked Saturday) Oct; 12–16; 19–23.
        ("working_days", date(2026, 9, 28), 15, date(2026, 10, 23)),
        ("working_days", date(2026, 9, 28), 35, date(2026, 11, 20)),
    ],
)
def test_a_period_in_days_ends_where_the_rules_say(mainland, basis, received, days, last_day):
    count = DayCount(mainland, basis)
    assert count.last_day(received, days) == last_day
    deadline = count.add_business_time(local(received, 15, 30), timedelta(days=days))
    assert deadline == end_of(last_day)


# -- the clocks on a complaint -----------------------------------------------------------------


@pytest.fixture
def officer(make_staff, complaint_team):
    return make_staff("officer", Role.COMPLAINT_OFFICER, teams=[complaint_team])


@pytest.fixture
def approver(make_staff, complaint_team):
    return make_staff("approver", Role.SUPERVISOR, teams=[complaint_team])


def _complaint_at(moment: datetime, categories, customer=None) -> Complaint:
    with time_machine.travel(moment, tick=False):
        case = case_create(
            subject="信用卡年费重复扣收",
            channel="email",
            category=categories["complaint_fees"],
            actor=None,
            text="我要投诉，年费被扣了两次。",
            customer=customer,
        )
    return Complaint.objects.get(case=case)


def _statutory(complaint: Complaint) -> SlaClock:
    (clock,) = statutory_clocks(complaint)
    return clock


def test_a_complaint_runs_the_regulators_deadline_beside_the_banks_own(categories):
    complaint = _complaint_at(local(date(2026, 9, 20), 10), categories)
    clock = _statutory(complaint)
    assert clock.target.policy.regulator == CN_NFRA
    assert (clock.metric, clock.basis, clock.status) == ("decision", "days_working_end", "running")
    assert clock.due_at == end_of(date(2026, 10, 8))
    assert not clock.is_provisional
    # An ordinary case runs no statutory clock.
    plain = case_create(subject="转账查询", channel="phone", actor=None)
    assert not SlaClock.objects.filter(case=plain, target__policy__regulator__gt="").exists()


def test_the_decision_meets_the_statutory_deadline(categories, officer):
    complaint = _complaint_at(local(date(2026, 9, 20), 10), categories)
    with time_machine.travel(local(date(2026, 9, 22), 11), tick=False):
        complaint_owner_set(complaint=complaint, owner=officer, actor=officer)
        complaint_decide(
            complaint=Complaint.objects.get(pk=complaint.pk),
            decision="重复扣收属实，退还年费。",
            remedy="退还 300 元",
            actor=officer,
        )
    clock = _statutory(complaint)
    assert clock.status == ClockStatus.MET
    assert clock.met_at == local(date(2026, 9, 22), 11)


def test_each_regulator_profile_counts_its_own_way(categories):
    SlaPolicy.objects.filter(regulator=CN_NFRA).update(is_active=False)
    # The CFPB profile, and the FCA's general rule (its payment-services policy stays off: this
    # bank has no payments category to give it).
    SlaPolicy.objects.filter(code__in=["statutory-us-cfpb", "statutory-uk-fca"]).update(
        is_active=True
    )
    assert SlaPolicy.objects.filter(regulator__in=[US_CFPB, UK_FCA]).count() == 3
    from bankdesk.sla.snapshot import sla_settings_changed

    sla_settings_changed()
    complaint = _complaint_at(local(date(2026, 9, 20), 10), categories)
    clocks = {clock.name: clock for clock in statutory_clocks(complaint)}
    assert clocks["CFPB response (15 days)"].due_at == end_of(date(2026, 10, 5))
    assert clocks["CFPB final response (60 days)"].due_at == end_of(date(2026, 11, 19))
    # FCA's general rule: 8 weeks.
    assert clocks["FCA final response (8 weeks)"].due_at == end_of(date(2026, 11, 15))
    assert len(clocks) == 3


def test_an_extension_moves_nothing_until_a_supervisor_approves_it(
    categories, officer, approver, agent, customer
):
    complaint = _complaint_at(local(date(2026, 1, 20), 10), categories, customer=customer)
    clock = _statutory(complaint)
    assert clock.due_at == end_of(date(2026, 2, 4))
    with time_machine.travel(local(date(2026, 1, 28), 9), tick=False):
        with pytest.raises(InvalidInput):
            complaint_extension_request(complaint=complaint, clock=clock, reason=" ", actor=officer)
        extension = complaint_extension_request(
            complaint=complaint, clock=clock, reason="需调取境外商户交易记录", actor=officer
        )
        # Asked for, not approved: the deadline stands.
        assert _statutory(complaint).due_at == end_of(date(2026, 2, 4))
        with pytest.raises(ExtensionNotAllowed):  # one request at a time
            complaint_extension_request(
                complaint=complaint, clock=clock, reason="再次", actor=officer
            )
        # Neither the one who asked nor an agent may approve it.
        for who in (officer, agent):
            with pytest.raises(PermissionDenied):
                complaint_extension_decide(extension=extension, approve=True, note="", actor=who)
        assert _statutory(complaint).due_at == end_of(date(2026, 2, 4))
        assert ComplaintExtension.objects.get(pk=extension.pk).status == ExtensionStatus.REQUESTED

        complaint_extension_decide(extension=extension, approve=True, note="", actor=approver)
    extended = _statutory(complaint)
    assert (extended.extension, extended.due_at) == (1, end_of(date(2026, 2, 24)))
    extension.refresh_from_db()
    assert extension.status == ExtensionStatus.APPROVED
    assert (extension.due_before, extension.due_after) == (
        end_of(date(2026, 2, 4)),
        end_of(date(2026, 2, 24)),
    )
    # The complainant is told, on their channel, in their language.
    notice = Message.objects.filter(case=complaint.case, direction=Direction.OUTBOUND).last()
    assert notice is not None and notice.channel == "email"
    assert complaint.case.number in notice.text and "30" in notice.text
    steps = [
        data["step"]
        for data in CaseEvent.objects.filter(
            case=complaint.case, kind=EventKind.COMPLAINT_STEP
        ).values_list("data", flat=True)
    ]
    assert steps[-2:] == [Step.EXTENSION_REQUESTED, Step.EXTENSION_APPROVED]
    assert AuditEntry.objects.filter(action="complaints.extension.approve").count() == 1
    assert AuditEntry.objects.filter(action="sla.clock.extend").count() == 1

    # The second step, to 60 days; then none is left.
    with time_machine.travel(local(date(2026, 2, 10), 9), tick=False):
        second = complaint_extension_request(
            complaint=complaint, clock=extended, reason="涉及第三方机构核查", actor=officer
        )
        complaint_extension_decide(extension=second, approve=True, note="同意", actor=approver)
        assert _statutory(complaint).due_at == end_of(date(2026, 3, 23))
        with pytest.raises(ExtensionNotAllowed):
            complaint_extension_request(
                complaint=complaint, clock=_statutory(complaint), reason="再延", actor=officer
            )


def test_a_refused_extension_changes_no_clock(categories, officer, approver):
    complaint = _complaint_at(local(date(2026, 1, 20), 10), categories)
    clock = _statutory(complaint)
    with time_machine.travel(local(date(2026, 1, 28), 9), tick=False):
        extension = complaint_extension_request(
            complaint=complaint, clock=clock, reason="材料不全", actor=officer
        )
        with pytest.raises(InvalidInput):  # a refusal says why
            complaint_extension_decide(extension=extension, approve=False, note="", actor=approver)
        complaint_extension_decide(
            extension=extension, approve=False, note="证据已齐备，按期办结", actor=approver
        )
    after = _statutory(complaint)
    assert (after.extension, after.minutes, after.due_at) == (0, clock.minutes, clock.due_at)
    assert ComplaintExtension.objects.get(pk=extension.pk).status == ExtensionStatus.REFUSED
    with pytest.raises(ExtensionNotAllowed):  # decided once
        complaint_extension_decide(extension=extension, approve=True, note="", actor=approver)


def test_a_deadline_already_passed_or_met_is_not_extended(categories, officer):
    complaint = _complaint_at(local(date(2026, 1, 20), 10), categories)
    with (
        time_machine.travel(local(date(2026, 2, 6), 9), tick=False),
        pytest.raises(ExtensionNotAllowed),
    ):
        complaint_extension_request(
            complaint=complaint, clock=_statutory(complaint), reason="晚了", actor=officer
        )
    assert not ComplaintExtension.objects.exists()
