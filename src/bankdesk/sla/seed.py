"""The calendars every install starts with: mainland China, Hong Kong and round the clock.

Used by the `bankdesk calendars seed` command and by data migrations, so it takes the model
classes as arguments (a migration must pass its historical models). Idempotent: a calendar that
exists keeps its name, zone and hours (admins may have changed them); holidays and extra working
days from the published sources are added or corrected, and days admins added are left alone.

Each calendar also records how far its holidays are known (`known_until`): mainland China to
the end of the last year `chinesecalendar` carries the State Council's notice for, Hong Kong to
the end of the years seeded. A horizon only moves forward: a notice an administrator loaded
(`bankdesk calendars load-notice`) is never undone by seeding from an older package.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time
from typing import Any

from django.db import models

# Names of the statutory holidays as the State Council's notices write them.
CN_HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}
# Hong Kong's general holidays follow fixed rules (General Holidays Ordinance, Cap. 149: the
# lunar festivals, and the day after one that falls on a Sunday), which `holidays` computes for
# any year; the seeded years count as known.
HK_YEARS = range(2020, 2031)
WEEKDAYS = range(5)


@dataclass(frozen=True)
class CalendarSeed:
    code: str
    name: str
    time_zone: str
    periods: tuple[tuple[time, time], ...] = ()  # the same on Monday to Friday
    is_24x7: bool = False
    holidays: dict[date, str] = field(default_factory=dict)
    extra_working_days: dict[date, str] = field(default_factory=dict)
    known_until: date | None = None  # None: no horizon


@dataclass(frozen=True)
class SeedReport:
    calendars_created: int
    days_written: int


def _cn_name(name: str | None) -> str:
    return CN_HOLIDAY_NAMES.get(name or "", name or "")


def cn_mainland() -> CalendarSeed:
    """Statutory holidays and 调休 working weekends, every year `chinesecalendar` publishes."""
    from chinese_calendar import constants  # type: ignore[import-untyped]  # ships no types

    holidays = {d: _cn_name(n) for d, n in constants.holidays.items() if d.weekday() < 5}
    extra = {d: _cn_name(n) for d, n in constants.workdays.items() if d.weekday() >= 5}
    # The package adds a year when the State Council's notice for it is out: the last year in
    # its data is the last one published, in full.
    last_year = max(day.year for day in (*constants.holidays, *constants.workdays))
    return CalendarSeed(
        code="cn-mainland",
        name="中国内地 Mainland China",
        time_zone="Asia/Shanghai",
        periods=((time(9), time(17)),),
        holidays=holidays,
        extra_working_days=extra,
        known_until=date(last_year, 12, 31),
    )


def hong_kong() -> CalendarSeed:
    import holidays

    return CalendarSeed(
        code="hk",
        name="香港 Hong Kong",
        time_zone="Asia/Hong_Kong",
        periods=((time(9), time(13)), (time(14), time(17, 30))),
        holidays=dict(holidays.HongKong(years=HK_YEARS).items()),
        known_until=date(HK_YEARS[-1], 12, 31),
    )


def round_the_clock() -> CalendarSeed:
    return CalendarSeed(code="24x7", name="全天候 24×7", time_zone="UTC", is_24x7=True)


def standard_calendars() -> tuple[CalendarSeed, ...]:
    return (cn_mainland(), hong_kong(), round_the_clock())


def calendar_horizons_seed_into(*, calendar_model: Any, using: str = "default") -> int:
    """Move each standard calendar's `known_until` forward to what its source publishes (never
    back). Returns how many calendars changed."""
    calendars = calendar_model.objects.db_manager(using)
    changed = 0
    for seed in standard_calendars():
        if seed.known_until is None:
            continue
        behind = models.Q(known_until__isnull=True) | models.Q(known_until__lt=seed.known_until)
        changed += calendars.filter(behind, code=seed.code, is_24x7=False).update(
            known_until=seed.known_until
        )
    return changed


def calendars_seed_into(
    *, calendar_model: Any, period_model: Any, day_model: Any, using: str = "default"
) -> SeedReport:
    """Write the three standard calendars with the given models (real or historical) into the
    database `using` (a migration may run on a database other than the default)."""
    calendars = calendar_model.objects.db_manager(using)
    periods = period_model.objects.db_manager(using)
    days = day_model.objects.db_manager(using)
    created_count = written = 0
    for seed in standard_calendars():
        calendar, created = calendars.get_or_create(
            code=seed.code,
            defaults={"name": seed.name, "time_zone": seed.time_zone, "is_24x7": seed.is_24x7},
        )
        if created:
            created_count += 1
            periods.bulk_create(
                period_model(calendar=calendar, weekday=weekday, start=start, end=end)
                for weekday in WEEKDAYS
                for start, end in seed.periods
            )
        wanted = {d: ("holiday", n) for d, n in seed.holidays.items()}
        wanted |= {d: ("extra_working_day", n) for d, n in seed.extra_working_days.items()}
        existing = {day.date: day for day in days.filter(calendar=calendar)}
        new, changed = [], []
        for day_date, (kind, name) in sorted(wanted.items()):
            row = existing.get(day_date)
            if row is None:
                new.append(day_model(calendar=calendar, date=day_date, kind=kind, name=name[:120]))
            elif (row.kind, row.name) != (kind, name[:120]):
                row.kind, row.name = kind, name[:120]
                changed.append(row)
        days.bulk_create(new)
        days.bulk_update(changed, ["kind", "name"])
        written += len(new) + len(changed)
    return SeedReport(calendars_created=created_count, days_written=written)
