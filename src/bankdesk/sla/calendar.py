"""Business time: the pure engine behind every SLA deadline, free of Django and the database.

A calendar is a time zone, weekly working periods (split shifts allowed), holidays and extra
working days (调休上班日). Working time is a union of half-open periods [start, end) in real time;
business minutes are real elapsed minutes inside them, so a period that spans a daylight-saving
change counts what the clock on the wall of the branch actually lived through.

Semantics the bank relies on:
- `add_business_minutes(start, 0)` is `start` moved forward to the next working moment.
- For minutes > 0 the deadline is the moment the N-th working minute ends; a deadline that falls
  exactly on the end of a period stays there (16:00 + 60 min on a 09:00–17:00 day is 17:00).
- A holiday has no working time; an extra working day works the Monday periods, whatever its
  weekday. A date cannot be both.
- Wall times that do not exist (spring forward) or occur twice (fall back) are read with fold=0
  (PEP 495): the offset in force before the change.
- Past `known_until`, the last date the calendar's holidays are published for, only the weekly
  pattern is known: arithmetic goes on with it (weekends, no holidays) and `is_known` tells the
  caller its answer is provisional. It never refuses, and never pretends to know.
"""

from __future__ import annotations

import itertools
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

EARLIEST_YEAR, LATEST_YEAR = 1900, 2200

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_MINUTE = 60_000_000  # microseconds
_DAY_MINUTES = 24 * 60


class CalendarRangeError(ValueError):
    """The computation would leave the years the engine covers (1900–2200, local time)."""


Period = tuple[time, time]


class _Year:
    """One local year of working time: its periods as real-time microsecond intervals."""

    __slots__ = ("before", "done", "ends", "starts", "total")

    def __init__(self, starts: list[int], ends: list[int]) -> None:
        self.starts = starts
        self.ends = ends
        # before[i]: working time in this year before period i; done[i]: up to its end.
        self.before: list[int] = []
        self.done: list[int] = []
        running = 0
        for start, end in zip(starts, ends, strict=True):
            self.before.append(running)
            running += end - start
            self.done.append(running)
        self.total = running

    def worked_until(self, moment: int) -> tuple[int, int]:
        """Working time this year before `moment`, and the index of the period at or before it."""
        index = bisect_right(self.starts, moment) - 1
        if index < 0:
            return 0, index
        return self.before[index] + min(
            moment - self.starts[index], self.ends[index] - self.starts[index]
        ), index


def _minutes(value: time) -> int:
    return value.hour * 60 + value.minute


class BusinessCalendarSpec:
    """A business calendar reduced to what deadline arithmetic needs. Immutable once built."""

    def __init__(
        self,
        *,
        time_zone: str,
        weekly: Mapping[int, Sequence[Period]] | None = None,
        holidays: Iterable[date] = (),
        extra_working_days: Iterable[date] = (),
        is_24x7: bool = False,
        known_until: date | None = None,
    ) -> None:
        self.zone = ZoneInfo(time_zone)
        self.is_24x7 = is_24x7
        # None: no horizon (round the clock, or a calendar with no published holidays).
        self.known_until = None if is_24x7 else known_until
        self.holidays = frozenset(holidays)
        self.extra_working_days = frozenset(extra_working_days)
        both = self.holidays & self.extra_working_days
        if both:
            raise ValueError(f"{min(both)} is both a holiday and an extra working day")
        week: list[tuple[tuple[int, int], ...]] = []
        for weekday in range(7):
            spans = sorted((_minutes(s), _minutes(e)) for s, e in (weekly or {}).get(weekday, ()))
            for start, end in spans:
                if not 0 <= start < end <= _DAY_MINUTES:
                    raise ValueError(f"weekday {weekday}: a period must start before it ends")
            for (_, end), (start, _) in itertools.pairwise(spans):
                if start < end:
                    raise ValueError(f"weekday {weekday}: periods overlap")
            week.append(tuple(spans))
        self.week = tuple(week)
        self._years: dict[int, _Year] = {}

    # -- the day plan -------------------------------------------------------------------------

    def is_known(self, moment: datetime) -> bool:
        """Whether `moment` falls on a date whose holidays are known (in the calendar's zone).

        A deadline or clock that reaches past it rests on days not yet published.
        """
        if self.known_until is None:
            return True
        return moment.astimezone(self.zone).date() <= self.known_until

    def periods_on(self, day: date) -> tuple[tuple[int, int], ...]:
        """Working periods of one local date, as (start, end) minutes after local midnight."""
        if self.is_24x7:
            return ((0, _DAY_MINUTES),)
        if day in self.holidays:
            return ()
        if day in self.extra_working_days:
            return self.week[0]
        return self.week[day.weekday()]

    def _wall(self, day: date, minute: int) -> int:
        if minute >= _DAY_MINUTES:
            day, minute = day + timedelta(days=1), minute - _DAY_MINUTES
        local = datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=self.zone)
        return (local - _EPOCH) // _MICROSECOND

    def _year(self, year: int) -> _Year:
        found = self._years.get(year)
        if found is not None:
            return found
        if not EARLIEST_YEAR <= year <= LATEST_YEAR:
            raise CalendarRangeError(
                f"business time is only known from {EARLIEST_YEAR} to {LATEST_YEAR}"
            )
        starts: list[int] = []
        ends: list[int] = []
        day = date(year, 1, 1)
        one = timedelta(days=1)
        while day.year == year:
            for start_minute, end_minute in self.periods_on(day):
                start, end = self._wall(day, start_minute), self._wall(day, end_minute)
                if starts and start < ends[-1]:  # a fall-back repeat: keep time moving forward
                    start = ends[-1]
                if end > start:
                    starts.append(start)
                    ends.append(end)
            day += one
        built = _Year(starts, ends)
        self._years[year] = built
        return built

    # -- arithmetic ---------------------------------------------------------------------------

    def _locate(self, moment: datetime) -> tuple[int, int]:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("business time needs an aware datetime")
        try:
            year = moment.astimezone(self.zone).year
        except OverflowError as exc:
            raise CalendarRangeError("moment out of range") from exc
        return year, (moment - _EPOCH) // _MICROSECOND

    def _as_datetime(self, moment: int) -> datetime:
        return (_EPOCH + moment * _MICROSECOND).astimezone(self.zone)

    def add_business_minutes(self, start: datetime, minutes: int) -> datetime:
        """The moment `minutes` working minutes after `start`, in the calendar's zone."""
        if minutes < 0:
            raise ValueError("minutes must not be negative")
        return self._add(start, minutes * _MINUTE)

    def add_business_time(self, start: datetime, amount: timedelta) -> datetime:
        """The moment `amount` of working time after `start`, exact to the microsecond.

        SLA clocks use this: what a clock has left after pauses is rarely whole minutes.
        """
        if amount < timedelta(0):
            raise ValueError("working time to add must not be negative")
        return self._add(start, amount // _MICROSECOND)

    def _add(self, start: datetime, amount: int) -> datetime:
        """`amount` microseconds of working time after `start`."""
        year, moment = self._locate(start)
        plan = self._year(year)
        worked, index = plan.worked_until(moment)
        if not amount:
            if index >= 0 and moment < plan.ends[index]:
                return self._as_datetime(moment)
            while index + 1 >= len(plan.starts):
                year, plan, index = year + 1, self._year(year + 1), -1
            return self._as_datetime(plan.starts[index + 1])
        target = worked + amount
        while target > plan.total:
            target -= plan.total
            year += 1
            plan = self._year(year)
        found = bisect_left(plan.done, target)
        return self._as_datetime(plan.starts[found] + target - plan.before[found])

    def business_minutes_between(self, start: datetime, end: datetime) -> int:
        """Whole working minutes from `start` to `end` (negative when `end` is earlier)."""
        worked = self.business_time_between(start, end)
        whole = abs(worked) // timedelta(minutes=1)
        return whole if worked >= timedelta(0) else -whole

    def business_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Working time from `start` to `end`, exact (negative when `end` is earlier)."""
        if end < start:
            return -self.business_time_between(end, start)
        first_year, first = self._locate(start)
        last_year, last = self._locate(end)
        worked_first, _ = self._year(first_year).worked_until(first)
        worked_last, _ = self._year(last_year).worked_until(last)
        total = worked_last - worked_first
        for year in range(first_year, last_year):
            total += self._year(year).total
        return total * _MICROSECOND

    def is_working(self, moment: datetime) -> bool:
        """Whether `moment` lies inside a working period."""
        year, at = self._locate(moment)
        plan = self._year(year)
        _, index = plan.worked_until(at)
        return index >= 0 and at < plan.ends[index]
