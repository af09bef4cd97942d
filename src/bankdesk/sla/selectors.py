"""Reads for business calendars and SLA clocks."""

from __future__ import annotations

import time as time_module
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from bankdesk.sla.calendar import BusinessCalendarSpec, CalendarRangeError
from bankdesk.sla.choices import DAY_BASES, ClockState, ClockStatus, DayKind, DueState
from bankdesk.sla.errors import CalendarNotFound, DeadlineOutOfRange
from bankdesk.sla.models import BusinessCalendar, SlaClock, SlaPolicy


def calendar_get(*, code: str) -> BusinessCalendar | None:
    return BusinessCalendar.objects.filter(code=code).first()


def calendar_list() -> QuerySet[BusinessCalendar]:
    return BusinessCalendar.objects.order_by("code")


def calendar_spec(*, calendar: BusinessCalendar) -> BusinessCalendarSpec:
    """The calendar as pure data for deadline arithmetic (two queries)."""
    weekly: dict[int, list[tuple[time, time]]] = {}
    for weekday, start, end in calendar.periods.values_list("weekday", "start", "end"):
        weekly.setdefault(weekday, []).append((start, end))
    holidays: list[date] = []
    extra: list[date] = []
    for day, kind in calendar.days.values_list("date", "kind"):
        (extra if kind == DayKind.EXTRA_WORKING_DAY else holidays).append(day)
    return BusinessCalendarSpec(
        time_zone=calendar.time_zone,
        weekly=weekly,
        holidays=holidays,
        extra_working_days=extra,
        is_24x7=calendar.is_24x7,
        known_until=calendar.known_until,
    )


@dataclass(frozen=True)
class Deadline:
    moment: datetime
    # Worked out across days whose holidays are not published yet: weekends only.
    is_provisional: bool
    known_until: date | None


def calendar_deadline(*, code: str, start: datetime, minutes: int) -> Deadline:
    """The moment `minutes` business minutes after `start` on calendar `code`, and whether it
    rests on days past the calendar's published holidays."""
    calendar = calendar_get(code=code)
    if calendar is None:
        raise CalendarNotFound(f"calendar {code} not found", field="code")
    spec = calendar_spec(calendar=calendar)
    try:
        moment = spec.add_business_minutes(start, minutes)
    except CalendarRangeError as exc:
        raise DeadlineOutOfRange(str(exc), field="minutes") from exc
    return Deadline(
        moment=moment, is_provisional=not spec.is_known(moment), known_until=spec.known_until
    )


@dataclass(frozen=True)
class CalendarHorizon:
    """A calendar whose published holidays end soon, or have ended."""

    calendar_id: int
    code: str
    name: str
    known_until: date
    days_left: int  # negative once passed

    @property
    def is_passed(self) -> bool:
        return self.days_left < 0

    @property
    def next_year(self) -> int:
        return self.known_until.year + 1

    def describe(self) -> str:
        """For operators' logs and the readiness check (English, like the rest of them)."""
        if self.is_passed:
            return (
                f"calendar {self.code} knows its holidays only until {self.known_until} "
                f"({-self.days_left} days ago): deadlines after it count weekends only and are "
                f"provisional until the official notice for {self.next_year} is loaded "
                "(bankdesk calendars load-notice)"
            )
        return (
            f"calendar {self.code} knows its holidays only until {self.known_until} "
            f"({self.days_left} days left): load the official notice for {self.next_year} "
            "(bankdesk calendars load-notice), or deadlines after it count weekends only and "
            "are provisional"
        )


def calendar_horizon_warnings(*, today: date | None = None) -> list[CalendarHorizon]:
    """Calendars whose holidays are known for less than BANKDESK_CALENDAR_WARNING_WEEKS more
    (or no longer), soonest first: what administrators must be told."""
    today = today or timezone.localdate()
    window = timedelta(weeks=settings.BANKDESK_CALENDAR_WARNING_WEEKS)
    rows = (
        BusinessCalendar.objects.filter(
            is_24x7=False, known_until__isnull=False, known_until__lte=today + window
        )
        .order_by("known_until", "code")
        .values_list("pk", "code", "name", "known_until")
    )
    return [
        CalendarHorizon(
            calendar_id=pk, code=code, name=name, known_until=known, days_left=(known - today).days
        )
        for pk, code, name, known in rows
        if known is not None  # filtered above; for the type checker
    ]


# Specs for showing clocks: a case list must not rebuild a calendar per row. A calendar edited
# by an admin shows up in remaining minutes within this long; clock arithmetic never uses it.
_SPEC_TTL = 60.0
_shown_specs: dict[int, tuple[float, BusinessCalendarSpec]] = {}
# Calendar minutes run on a calendar where every minute works.
ROUND_THE_CLOCK = BusinessCalendarSpec(time_zone="UTC", is_24x7=True)


def calendar_spec_for_display(calendar_id: int | None) -> BusinessCalendarSpec:
    if calendar_id is None:
        return ROUND_THE_CLOCK
    now = time_module.monotonic()
    cached = _shown_specs.get(calendar_id)
    if cached is not None and now - cached[0] < _SPEC_TTL:
        return cached[1]
    spec = calendar_spec(calendar=BusinessCalendar.objects.get(pk=calendar_id))
    _shown_specs[calendar_id] = (now, spec)
    return spec


def clock_state(clock: SlaClock, now: datetime) -> str:
    """Running, paused, met, breached (its due time passed unmet, or it was met late) or
    cancelled."""
    late = clock.due_at is not None and (clock.met_at or now) > clock.due_at
    if clock.status == ClockStatus.CANCELLED:
        return ClockState.CANCELLED
    if clock.status == ClockStatus.PAUSED:
        used_up = clock.consumed >= timedelta(minutes=clock.minutes)
        return ClockState.BREACHED if used_up else ClockState.PAUSED
    if late:
        return ClockState.BREACHED
    return ClockState.MET if clock.status == ClockStatus.MET else ClockState.RUNNING


def clock_remaining_minutes(clock: SlaClock, now: datetime) -> int:
    """Working minutes left before the due time (plain minutes for a clock counted in days);
    negative once it has passed."""
    if clock.basis in DAY_BASES and clock.due_at is not None:
        return int((clock.due_at - now) // timedelta(minutes=1))
    if clock.status == ClockStatus.RUNNING and clock.due_at is not None:
        spec = calendar_spec_for_display(clock.calendar_id)
        return spec.business_minutes_between(now, clock.due_at)
    left = timedelta(minutes=clock.minutes) - clock.consumed
    whole = abs(left) // timedelta(minutes=1)
    return whole if left >= timedelta(0) else -whole


def clock_out(clock: SlaClock, now: datetime) -> dict[str, Any]:
    return {
        "id": clock.pk,
        "name": clock.name,
        "metric": clock.metric,
        "cycle": clock.cycle,
        "target_minutes": clock.minutes,
        "basis": clock.basis,
        "started_at": clock.started_at,
        "due_at": clock.due_at,
        "state": clock_state(clock, now),
        "remaining_business_minutes": clock_remaining_minutes(clock, now),
        # A clock counted in days says what is left in whole days (none left on the last one).
        "counts_days": clock.basis in DAY_BASES,
        "remaining_days": (
            (clock.due_at - now) // timedelta(days=1) if clock.due_at is not None else None
        ),
        "met_at": clock.met_at,
        "is_provisional": clock.is_provisional,
    }


def case_clocks(case_id: int) -> list[SlaClock]:
    return list(SlaClock.objects.filter(case_id=case_id).prefetch_related("pauses").order_by("id"))


def policy_list() -> QuerySet[SlaPolicy]:
    return SlaPolicy.objects.select_related("calendar").prefetch_related(
        "categories", "targets__escalations"
    )


@dataclass(frozen=True)
class NextDue:
    name: str
    due_at: datetime | None  # None while paused: the clock stands still
    state: str  # a DueState

    @property
    def label(self) -> str:
        return str(DueState(self.state).label)


def case_next_due(clocks: list[SlaClock], now: datetime) -> NextDue | None:
    """The deadline a case must meet next, from its clocks (already read with the case): the
    earliest running one; else a paused one; None when nothing is left to meet."""
    running = [c for c in clocks if c.status == ClockStatus.RUNNING and c.due_at is not None]
    if running:
        clock = min(running, key=lambda c: c.due_at or now)
        assert clock.due_at is not None
        if clock.due_at <= now:
            state = DueState.BREACHED
        elif clock.warn_at is not None and clock.warn_at <= now:
            state = DueState.AT_RISK
        else:
            state = DueState.ON_TRACK
        return NextDue(name=clock.name, due_at=clock.due_at, state=state)
    paused = [c for c in clocks if c.status == ClockStatus.PAUSED]
    if paused:
        return NextDue(name=paused[0].name, due_at=None, state=DueState.PAUSED)
    return None
