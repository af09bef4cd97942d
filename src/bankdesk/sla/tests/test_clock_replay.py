"""SLA clocks replayed from a case's history: fixed stories a supervisor can check by hand, and
properties over random histories (pauses excluded exactly, never earlier for more pausing)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bankdesk.sla.calendar import BusinessCalendarSpec
from bankdesk.sla.replay import (
    CANCELLED,
    FIRST_RESPONSE,
    MET,
    NEXT_RESPONSE,
    PAUSED,
    RESOLUTION,
    RUNNING,
    CaseHistory,
    ClockRule,
    Contact,
    StatusChange,
    clock_runs,
)
from bankdesk.sla.tests.moments import at

OFFICE = BusinessCalendarSpec(
    time_zone="Asia/Shanghai", weekly={day: [(time(9), time(17))] for day in range(5)}
)
PENDING = frozenset({"pending_customer"})


def rule(metric: str, minutes: int, warning: int | None = None) -> ClockRule:
    return ClockRule(metric, timedelta(minutes=minutes), PENDING, warning)


def history(*changes: tuple[datetime, str], contacts: tuple[Contact, ...] = ()) -> CaseHistory:
    return CaseHistory(
        opened_at=at(2, 9),
        status_changes=tuple(StatusChange(moment, status) for moment, status in changes),
        contacts=contacts,
    )


def test_a_first_response_clock_is_met_by_the_first_staff_reply():
    story = history(contacts=(Contact(at(2, 9), True), Contact(at(2, 9, 30), False)))
    (run,) = clock_runs(story, rule(FIRST_RESPONSE, 60, warning=50), OFFICE)
    assert run.status == MET
    assert run.met_at == at(2, 9, 30)
    assert run.consumed == timedelta(minutes=30)
    assert run.due_at == at(2, 10)
    assert run.warn_at == at(2, 9, 30)


def test_waiting_for_the_customer_stops_the_resolution_clock_and_the_ledger_shows_it():
    story = history((at(2, 10), "open"), (at(2, 11), "pending_customer"), (at(3, 11), "open"))
    (run,) = clock_runs(story, rule(RESOLUTION, 480), OFFICE)
    assert run.status == RUNNING
    assert [(p.started_at, p.ended_at, p.status) for p in run.pauses] == [
        (at(2, 11), at(3, 11), "pending_customer")
    ]
    assert run.consumed == timedelta(minutes=120)  # Monday 09:00–11:00
    assert run.due_at == at(3, 17)  # the 360 minutes left, from Tuesday 11:00


def test_a_clock_paused_now_has_no_due_time_and_keeps_what_it_used():
    story = history((at(2, 10), "open"), (at(2, 13), "pending_customer"))
    (run,) = clock_runs(story, rule(RESOLUTION, 480), OFFICE)
    assert run.status == PAUSED
    assert run.due_at is None
    assert run.consumed == timedelta(hours=4)
    assert run.pauses[-1].ended_at is None


def test_reopening_takes_the_resolution_clock_up_again_without_counting_the_resolved_days():
    story = history(
        (at(2, 10), "open"), (at(2, 12), "resolved"), (at(4, 9), "open"), (at(4, 10), "resolved")
    )
    (run,) = clock_runs(story, rule(RESOLUTION, 480), OFFICE)
    assert run.status == MET
    assert run.met_at == at(4, 10)
    assert run.consumed == timedelta(hours=4)  # 09–12 Monday, 09–10 Wednesday
    assert [(p.started_at, p.ended_at, p.status) for p in run.pauses] == [
        (at(2, 12), at(4, 9), "resolved")
    ]


def test_a_merged_case_cancels_its_unmet_clocks():
    story = history((at(2, 10), "open"), (at(2, 11), "closed"))
    (first,) = clock_runs(story, rule(FIRST_RESPONSE, 60), OFFICE)
    (resolution,) = clock_runs(story, rule(RESOLUTION, 480), OFFICE)
    assert first.status == CANCELLED  # 09:00 + 60 passed at 10:00; the record keeps that
    assert first.due_at == at(2, 10)
    assert resolution.status == CANCELLED
    assert resolution.stopped_at == at(2, 11)


def test_each_customer_message_after_a_reply_starts_a_next_response_cycle():
    story = history(
        (at(2, 9, 5), "open"),
        contacts=(
            Contact(at(2, 9), True),
            Contact(at(2, 9, 10), False),  # first response
            Contact(at(2, 10), True),  # cycle 1 starts
            Contact(at(2, 10, 5), True),  # same cycle: still waiting for us
            Contact(at(2, 11), False),  # cycle 1 met
            Contact(at(2, 16, 30), True),  # cycle 2, overnight
        ),
    )
    runs = clock_runs(story, rule(NEXT_RESPONSE, 60), OFFICE)
    assert [(r.cycle, r.status, r.started_at) for r in runs] == [
        (1, MET, at(2, 10)),
        (2, RUNNING, at(2, 16, 30)),
    ]
    assert runs[0].consumed == timedelta(hours=1)
    assert runs[1].due_at == at(3, 9, 30)


def test_no_next_response_clock_before_the_first_response():
    story = history(contacts=(Contact(at(2, 9), True), Contact(at(2, 10), True)))
    assert clock_runs(story, rule(NEXT_RESPONSE, 60), OFFICE) == []


# -- properties ---------------------------------------------------------------------------------

START = at(2, 9)
offsets = st.lists(st.integers(1, 60 * 24 * 20), min_size=0, max_size=12, unique=True)


def _alternating(minutes: list[int]) -> tuple[tuple[datetime, str], ...]:
    """open → pending → open → … at the given minutes after the start."""
    moments = sorted(START + timedelta(minutes=m) for m in minutes)
    statuses = ["pending_customer", "open"] * len(moments)
    return tuple(zip(moments, statuses, strict=False))


@settings(max_examples=300, deadline=None)
@given(offsets, st.integers(1, 60 * 40))
def test_paused_stretches_are_excluded_exactly(minutes, target):
    story = history(*_alternating(minutes))
    (run,) = clock_runs(story, rule(RESOLUTION, target), OFFICE)
    if run.due_at is None:
        assert run.status == PAUSED
        return
    working = OFFICE.business_time_between(START, run.due_at)
    paused = sum(
        (
            OFFICE.business_time_between(p.started_at, min(p.ended_at or run.due_at, run.due_at))
            for p in run.pauses
            if p.started_at < run.due_at
        ),
        timedelta(0),
    )
    assert working - paused == timedelta(minutes=target)
    assert not any(p.started_at < run.due_at < (p.ended_at or run.due_at) for p in run.pauses)


@settings(max_examples=200, deadline=None)
@given(offsets, st.integers(1, 60 * 40), st.integers(1, 600))
def test_pausing_longer_never_brings_the_due_time_forward(minutes, target, extra):
    minutes = sorted(minutes)
    if len(minutes) % 2 == 1:  # ends running: stretch the last pause
        minutes = minutes[:-1]
    if not minutes:
        return
    shorter = history(*_alternating(minutes))
    longer = history(*_alternating([*minutes[:-1], minutes[-1] + extra]))
    (a,) = clock_runs(shorter, rule(RESOLUTION, target), OFFICE)
    (b,) = clock_runs(longer, rule(RESOLUTION, target), OFFICE)
    assert a.due_at is not None and b.due_at is not None
    assert b.due_at >= a.due_at


@settings(max_examples=200, deadline=None)
@given(offsets, st.integers(1, 60 * 40))
def test_consumed_plus_what_is_left_is_the_target(minutes, target):
    story = history(*_alternating(minutes))
    (run,) = clock_runs(story, rule(RESOLUTION, target), OFFICE)
    if run.status != RUNNING or run.due_at is None:
        return
    resumed = run.pauses[-1].ended_at if run.pauses else START
    assert resumed is not None
    left = OFFICE.business_time_between(resumed, run.due_at)
    if run.consumed < timedelta(minutes=target):  # else it fell due before the last resume
        assert run.consumed + left == timedelta(minutes=target)
