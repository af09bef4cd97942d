"""Periods the indicators are asked for: whole days on the bank's clock, both ends included,
a quarter (2026Q3) or a month of a period; within 2000–2099."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from bankdesk.lib.errors import InvalidInput


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=timezone.get_current_timezone())


@dataclass(frozen=True)
class Period:
    first: date
    last: date  # included

    @property
    def since(self) -> datetime:
        return day_start(self.first)

    @property
    def until(self) -> datetime:
        return day_start(self.last + timedelta(days=1))

    def year_before(self) -> Period:
        return Period(_shift_year(self.first), _shift_year(self.last))

    def __str__(self) -> str:
        return f"{self.first.isoformat()} – {self.last.isoformat()}"


def _shift_year(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


# Periods are asked for within these years: a baseline a year before, and a day after, must
# still be dates.
FIRST_YEAR, LAST_YEAR = 2000, 2099


def period_of(first: date, last: date) -> Period:
    """The days from `first` to `last`, both included, refused when they run backwards or
    leave the years bankdesk measures."""
    if not (FIRST_YEAR <= first.year <= LAST_YEAR and FIRST_YEAR <= last.year <= LAST_YEAR):
        raise InvalidInput(f"a period lies within {FIRST_YEAR}–{LAST_YEAR}", field="from")
    if last < first:
        raise InvalidInput("the period ends before it starts", field="to")
    return Period(first, last)


def quarter_period(text: str) -> Period:
    """The quarter written like 2026Q3: 1 July to 30 September 2026."""
    clean = text.strip().upper()
    if len(clean) != 6 or clean[4] != "Q" or not clean[:4].isdigit() or clean[5] not in "1234":
        raise InvalidInput("a quarter is written like 2026Q3", field="quarter")
    year, number = int(clean[:4]), int(clean[5])
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise InvalidInput(f"a quarter lies within {FIRST_YEAR}–{LAST_YEAR}", field="quarter")
    first = date(year, 3 * number - 2, 1)
    following = date(year + 1, 1, 1) if number == 4 else date(year, 3 * number + 1, 1)
    return Period(first, following - timedelta(days=1))


def quarter_of(day: date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def quarters_ending(quarter: str, count: int) -> list[str]:
    """The `count` quarters up to and including `quarter`, oldest first."""
    period = quarter_period(quarter)
    labels = [quarter]
    day = period.first
    while len(labels) < count:
        day = (day - timedelta(days=1)).replace(day=1)
        label = quarter_of(day)
        if label != labels[-1]:
            labels.append(label)
    return labels[::-1]


def month_period(key: str, within: Period) -> Period:
    """The month "2026-10", cut to the period it is part of."""
    try:
        first = date.fromisoformat(f"{key}-01")
    except ValueError:
        raise InvalidInput("a month is written like 2026-10", field="key") from None
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return Period(max(first, within.first), min(following - timedelta(days=1), within.last))
