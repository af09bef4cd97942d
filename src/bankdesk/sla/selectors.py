"""Reads for business calendars: one calendar, reduced to the engine's spec."""

from __future__ import annotations

from datetime import date, datetime, time

from bankdesk.sla.calendar import BusinessCalendarSpec, CalendarRangeError
from bankdesk.sla.choices import DayKind
from bankdesk.sla.errors import CalendarNotFound, DeadlineOutOfRange
from bankdesk.sla.models import BusinessCalendar


def calendar_get(*, code: str) -> BusinessCalendar | None:
    return BusinessCalendar.objects.filter(code=code).first()


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
    )


def calendar_deadline(*, code: str, start: datetime, minutes: int) -> datetime:
    """The moment `minutes` business minutes after `start` on calendar `code`."""
    calendar = calendar_get(code=code)
    if calendar is None:
        raise CalendarNotFound(f"calendar {code} not found", field="code")
    try:
        return calendar_spec(calendar=calendar).add_business_minutes(start, minutes)
    except CalendarRangeError as exc:
        raise DeadlineOutOfRange(str(exc), field="minutes") from exc
