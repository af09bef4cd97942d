"""A year's official holiday notice as a file: its format, read and checked line by line.

Each November or December the State Council's General Office publishes the next year's holidays
and the weekend days worked to bridge them (调休上班). An administrator types them into a CSV
file (UTF-8; lines starting with # are notes) and loads it into a calendar:

    date,kind,name_zh,name_en
    2027-01-01,holiday,元旦,New Year's Day

`kind` is `holiday` (a day the calendar would work, taken off) or `working_day` (a day it would
not work, worked). Only the days the notice changes are listed, so every line matters: a
holiday on a weekend or a working day on a weekday is refused as the typing mistake it almost
always is. docs/calendars.md has the whole format.

This module needs no database: what a line means for a particular calendar (is that date a
weekend there? does the year follow the last one known?) is checked where it is loaded.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext as _

from bankdesk.sla.calendar import EARLIEST_YEAR, LATEST_YEAR
from bankdesk.sla.choices import DayKind
from bankdesk.sla.errors import NoticeInvalid

HEADER = ("date", "kind", "name_zh", "name_en")
KINDS = {"holiday": DayKind.HOLIDAY, "working_day": DayKind.EXTRA_WORKING_DAY}
MAX_BYTES = 64 * 1024
MAX_DAYS = 200  # a notice lists some 30; this bounds a wrong file, not a real one
NAME_LENGTH = 120  # CalendarDay.name
# A working day may bridge New Year's Day from the last days of the year before, as Saturday
# 31 December 2011 did in the notice for 2012.
BRIDGE_FROM_DECEMBER = 25


@dataclass(frozen=True)
class NoticeDay:
    line: int
    date: date
    kind: str  # DayKind
    name: str


@dataclass(frozen=True)
class OfficialNotice:
    """One year's holidays and adjusted working days, as the notice lists them."""

    year: int
    days: tuple[NoticeDay, ...]

    @property
    def holidays(self) -> int:
        return sum(1 for day in self.days if day.kind == DayKind.HOLIDAY)

    @property
    def working_days(self) -> int:
        return sum(1 for day in self.days if day.kind == DayKind.EXTRA_WORKING_DAY)


def notice_year_check(year: int) -> None:
    if not EARLIEST_YEAR <= year < LATEST_YEAR:
        raise NoticeInvalid(
            [
                _("the year must be between %(first)s and %(last)s")
                % {"first": EARLIEST_YEAR, "last": LATEST_YEAR - 1}
            ]
        )


def _text(content: bytes) -> str:
    if not content.strip():
        raise NoticeInvalid([_("the file is empty")])
    if len(content) > MAX_BYTES:
        raise NoticeInvalid(
            [_("the file is larger than %(limit)s KB") % {"limit": MAX_BYTES // 1024}]
        )
    try:
        # Spreadsheet programs save "CSV UTF-8" with a byte-order mark; it is not part of line 1.
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise NoticeInvalid([_("the file is not UTF-8 text; save it as CSV (UTF-8)")]) from exc


def _in_year(day: date, kind: str, year: int) -> bool:
    if day.year == year:
        return True
    return (
        kind == DayKind.EXTRA_WORKING_DAY
        and day.year == year - 1
        and day.month == 12
        and day.day >= BRIDGE_FROM_DECEMBER
    )


def _day(fields: list[str], line: int, year: int) -> tuple[NoticeDay | None, list[str]]:
    """One line's day, or what is wrong with it (every problem, not just the first)."""
    raw_date, raw_kind, name_zh, name_en = (field.strip() for field in fields)
    problems = []
    try:
        day = date.fromisoformat(raw_date) if len(raw_date) == 10 else None
    except ValueError:
        day = None
    if day is None:
        problems.append(
            _("line %(line)s: %(value)s is not a date (YYYY-MM-DD)")
            % {"line": line, "value": raw_date or '""'}
        )
    kind = KINDS.get(raw_kind)
    if kind is None:
        problems.append(
            _("line %(line)s: kind must be holiday or working_day, not %(value)s")
            % {"line": line, "value": raw_kind or '""'}
        )
    name = " ".join(part for part in (name_zh, name_en) if part)
    if not name:
        problems.append(_("line %(line)s: a name (name_zh or name_en) is needed") % {"line": line})
    elif len(name) > NAME_LENGTH:
        problems.append(
            _("line %(line)s: the names are longer than %(limit)s characters together")
            % {"line": line, "limit": NAME_LENGTH}
        )
    if day is not None and kind is not None and not _in_year(day, kind, year):
        problems.append(
            _("line %(line)s: %(date)s is not in %(year)s")
            % {"line": line, "date": day.isoformat(), "year": year}
        )
    if problems or day is None or kind is None:
        return None, problems
    return NoticeDay(line=line, date=day, kind=kind, name=name), []


def notice_parse(*, content: bytes, year: int) -> OfficialNotice:
    """Read a notice file for `year`. Refuses it whole, naming every bad line, or returns it."""
    notice_year_check(year)
    text = _text(content)
    problems: list[str] = []
    days: list[NoticeDay] = []
    first_seen: dict[date, int] = {}
    header_seen = False
    # Line by line, so that a problem names the line the administrator sees in their editor.
    for line, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        try:
            fields = next(csv.reader([raw], strict=True))
        except csv.Error:
            problems.append(_("line %(line)s: not a CSV line") % {"line": line})
            continue
        if not header_seen:
            header_seen = True
            if tuple(field.strip().lower() for field in fields) != HEADER:
                problems.append(
                    _("line %(line)s: the header must be %(header)s")
                    % {"line": line, "header": ",".join(HEADER)}
                )
                break
            continue
        if len(fields) != len(HEADER):
            problems.append(
                _("line %(line)s: %(expected)s fields expected, found %(found)s")
                % {"line": line, "expected": len(HEADER), "found": len(fields)}
            )
            continue
        day, wrong = _day(fields, line, year)
        problems += wrong
        if day is None:
            continue
        if day.date in first_seen:
            problems.append(
                _("line %(line)s: %(date)s is already on line %(first)s")
                % {"line": line, "date": day.date.isoformat(), "first": first_seen[day.date]}
            )
            continue
        first_seen[day.date] = line
        days.append(day)
    if not header_seen:
        problems.append(_("the file has no header line %(header)s") % {"header": ",".join(HEADER)})
    elif not problems and not days:
        problems.append(_("no days: the file lists no holiday or working day"))
    if len(days) > MAX_DAYS:
        problems.append(
            _("more than %(limit)s days: a year's notice lists far fewer") % {"limit": MAX_DAYS}
        )
    if problems:
        raise NoticeInvalid(problems)
    return OfficialNotice(year=year, days=tuple(sorted(days, key=lambda d: d.date)))
