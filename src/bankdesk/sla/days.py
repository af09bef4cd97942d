"""Deadlines counted in days, as regulators write them: pure, free of Django and the database.

"Within 15 days of receipt" does not count the day of receipt; the deadline is the end of the
fifteenth day after it (midnight, in the calendar's time zone). Three ways to count:

- calendar days: every date counts;
- calendar days ending on a working day: the same, but a period whose last day is a rest day
  or a public holiday ends with the first working day after it (the mainland rule, Civil Code
  art. 203), so a deadline never falls on a holiday — and a weekend worked (调休) is a working
  day, so it can end there;
- working days: only dates with working time count (UK "business days").

A fraction of a day (a warning at 80 % of 15 days) counts its whole days the same way; less
than a day is plain elapsed time. Time between two moments is plain elapsed time: these clocks
measure dates, not hours at the desk.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from bankdesk.sla.calendar import BusinessCalendarSpec

DAYS, DAYS_WORKING_END, WORKING_DAYS = "days", "days_working_end", "working_days"
_DAY = timedelta(days=1)
# Far enough for any statutory period over the longest run of holidays; a calendar with no
# working day at all in this stretch cannot end a working-day deadline.
_SEARCH_LIMIT = 3660


class NoWorkingDay(ValueError):
    """The calendar has no working day where a deadline needs one."""


class DayCount:
    """A business calendar read as dates: what the SLA replay needs (`WorkingTime`)."""

    def __init__(self, spec: BusinessCalendarSpec, basis: str) -> None:
        if basis not in {DAYS, DAYS_WORKING_END, WORKING_DAYS}:
            raise ValueError(f"{basis} is not a day basis")
        self.spec = spec
        self.basis = basis

    def is_working_day(self, day: date) -> bool:
        return bool(self.spec.periods_on(day))

    def _next_working_day(self, day: date) -> date:
        for _ in range(_SEARCH_LIMIT):
            if self.is_working_day(day):
                return day
            day += _DAY
        raise NoWorkingDay(f"no working day within {_SEARCH_LIMIT} days after {day}")

    def last_day(self, received: date, days: int) -> date:
        """The last date of a period of `days` days after the date of receipt."""
        if self.basis == WORKING_DAYS:
            day = received
            for _ in range(days):
                day = self._next_working_day(day + _DAY)
            return day
        day = received + timedelta(days=days)
        if self.basis == DAYS_WORKING_END:
            day = self._next_working_day(day)
        return day

    def _end_of(self, day: date) -> datetime:
        following = day + _DAY
        local = datetime(following.year, following.month, following.day, tzinfo=self.spec.zone)
        return local.astimezone(UTC)

    def add_business_time(self, start: datetime, amount: timedelta) -> datetime:
        days = amount // _DAY
        if days <= 0:
            return start + amount
        return self._end_of(self.last_day(start.astimezone(self.spec.zone).date(), days))

    def business_time_between(self, start: datetime, end: datetime) -> timedelta:
        return max(end - start, timedelta(0))
