"""The business-time engine on its own: properties over random calendars, DST, fixed cases."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bankdesk.sla.calendar import BusinessCalendarSpec, CalendarRangeError

LONDON = ZoneInfo("Europe/London")
SHANGHAI = ZoneInfo("Asia/Shanghai")
SPLIT_SHIFT = [(time(9), time(12)), (time(13, 30), time(17, 30))]
WEEKLY = {**dict.fromkeys(range(5), SPLIT_SHIFT), 5: [(time(10), time(14))]}
ONE_MICROSECOND = timedelta(microseconds=1)

fast = settings(max_examples=200, deadline=None)


@st.composite
def calendars(draw: st.DrawFn, zone: str = "Europe/London") -> BusinessCalendarSpec:
    days = st.dates(date(2025, 1, 1), date(2028, 12, 31))
    holidays = draw(st.sets(days, max_size=40))
    extra = draw(st.sets(days, max_size=15)) - holidays
    return BusinessCalendarSpec(
        time_zone=zone, weekly=WEEKLY, holidays=holidays, extra_working_days=extra
    )


starts = st.datetimes(datetime(2025, 1, 1), datetime(2027, 12, 31), timezones=st.just(UTC))
minutes = st.integers(min_value=1, max_value=20_000)


@fast
@given(calendars(), starts, minutes)
def test_a_deadline_is_inside_or_at_the_end_of_a_working_period(spec, start, m):
    deadline = spec.add_business_minutes(start, m)
    assert spec.is_working(deadline - ONE_MICROSECOND)
    assert deadline.tzinfo == LONDON


@fast
@given(calendars(), starts)
def test_adding_nothing_moves_to_the_next_working_moment(spec, start):
    moved = spec.add_business_minutes(start, 0)
    assert moved >= start
    assert spec.is_working(moved)
    assert spec.business_minutes_between(start, moved) == 0


@fast
@given(calendars(), starts, st.integers(0, 20_000), minutes)
def test_adding_a_then_b_equals_adding_a_plus_b(spec, start, a, b):
    then = spec.add_business_minutes(spec.add_business_minutes(start, a), b)
    assert then == spec.add_business_minutes(start, a + b)


@fast
@given(calendars(), starts, st.integers(0, 20_000), st.integers(0, 20_000))
def test_deadlines_grow_with_minutes(spec, start, a, b):
    low, high = sorted((a, b))
    assert spec.add_business_minutes(start, low) <= spec.add_business_minutes(start, high)


@fast
@given(calendars(), starts, st.integers(0, 20_000))
def test_minutes_between_a_start_and_its_deadline_are_the_minutes_added(spec, start, m):
    inside = spec.add_business_minutes(start, 0)
    assert spec.business_minutes_between(inside, spec.add_business_minutes(inside, m)) == m
    assert spec.business_minutes_between(start, spec.add_business_minutes(start, m)) == m


def _count_minute_by_minute(spec: BusinessCalendarSpec, start: datetime, m: int) -> datetime:
    """An oracle for zones without DST: walk local minutes one at a time."""
    local = start.astimezone(spec.zone)
    while True:
        minute = local.hour * 60 + local.minute
        if any(s <= minute < e for s, e in spec.periods_on(local.date())):
            if m == 0:
                return local
            m -= 1
            if m == 0:
                return local + timedelta(minutes=1)
        local += timedelta(minutes=1)


@settings(max_examples=100, deadline=None)
@given(
    calendars("Asia/Shanghai"),
    st.integers(0, 3 * 365 * 24 * 60),
    st.integers(0, 1_500),
)
def test_the_engine_agrees_with_counting_minute_by_minute(spec, offset, m):
    start = datetime(2025, 1, 1, tzinfo=SHANGHAI) + timedelta(minutes=offset)
    assert spec.add_business_minutes(start, m) == _count_minute_by_minute(spec, start, m)


def _london_office() -> BusinessCalendarSpec:
    return BusinessCalendarSpec(
        time_zone="Europe/London", weekly={key: [(time(9), time(17))] for key in range(5)}
    )


@pytest.mark.parametrize(
    ("start", "deadline"),
    [
        # Clocks go forward on Sunday 29 March 2026, back on Sunday 25 October 2026.
        (datetime(2026, 3, 27, 16), datetime(2026, 3, 30, 10)),
        (datetime(2026, 10, 23, 16), datetime(2026, 10, 26, 10)),
    ],
)
def test_a_london_office_is_right_across_both_clock_changes(start, deadline):
    spec = _london_office()
    got = spec.add_business_minutes(start.replace(tzinfo=LONDON), 120)
    assert got.replace(tzinfo=None) == deadline
    assert got.utcoffset() == (timedelta(hours=1) if deadline.month == 3 else timedelta(0))
    assert spec.business_minutes_between(start.replace(tzinfo=LONDON), got) == 120


def test_round_the_clock_in_london_counts_real_minutes_over_both_changes():
    spec = BusinessCalendarSpec(time_zone="Europe/London", is_24x7=True)
    start = datetime(2026, 3, 28, 23, tzinfo=LONDON)
    assert spec.add_business_minutes(start, 180).astimezone(UTC) == datetime(
        2026, 3, 29, 2, tzinfo=UTC
    )
    # PEP 495: a fold=1 time never equals one in another zone, so compare in UTC.
    autumn = datetime(2026, 10, 24, 23, tzinfo=LONDON)
    assert spec.add_business_minutes(autumn, 180).astimezone(UTC) == datetime(
        2026, 10, 25, 1, tzinfo=UTC
    )


def test_a_deadline_on_the_end_of_a_period_stays_there():
    spec = BusinessCalendarSpec(
        time_zone="Asia/Shanghai", weekly={key: [(time(9), time(17))] for key in range(5)}
    )
    start = datetime(2026, 9, 29, 16, tzinfo=SHANGHAI)
    assert spec.add_business_minutes(start, 60) == datetime(2026, 9, 29, 17, tzinfo=SHANGHAI)
    assert spec.add_business_minutes(start, 61) == datetime(2026, 9, 30, 9, 1, tzinfo=SHANGHAI)


def test_an_extra_working_day_works_monday_hours_and_a_holiday_none():
    spec = BusinessCalendarSpec(
        time_zone="Asia/Shanghai",
        weekly={0: SPLIT_SHIFT, 1: [(time(8), time(9))]},
        holidays={date(2026, 9, 21)},
        extra_working_days={date(2026, 9, 20)},
    )
    saturday = datetime(2026, 9, 19, 10, tzinfo=SHANGHAI)
    assert spec.add_business_minutes(saturday, 200) == datetime(
        2026, 9, 20, 13, 50, tzinfo=SHANGHAI
    )
    assert spec.add_business_minutes(saturday, 450) == datetime(2026, 9, 22, 8, 30, tzinfo=SHANGHAI)


def test_a_split_shift_skips_lunch():
    spec = BusinessCalendarSpec(time_zone="Asia/Shanghai", weekly={0: SPLIT_SHIFT})
    monday = datetime(2026, 9, 21, 11, 30, tzinfo=SHANGHAI)
    assert spec.add_business_minutes(monday, 60) == datetime(2026, 9, 21, 14, tzinfo=SHANGHAI)


def test_a_calendar_without_working_time_refuses_rather_than_loops_forever():
    spec = BusinessCalendarSpec(time_zone="UTC")
    with pytest.raises(CalendarRangeError):
        spec.add_business_minutes(datetime(2026, 1, 1, tzinfo=UTC), 1)


def test_beyond_2200_is_refused():
    spec = BusinessCalendarSpec(time_zone="UTC", is_24x7=True)
    with pytest.raises(CalendarRangeError):
        spec.add_business_minutes(datetime(2200, 12, 31, tzinfo=UTC), 10_000)
    with pytest.raises(CalendarRangeError):
        spec.add_business_minutes(datetime(9999, 1, 1, tzinfo=UTC), 1)


@pytest.mark.parametrize(
    "weekly",
    [
        {0: [(time(9), time(12)), (time(11), time(13))]},
        {0: [(time(12), time(9))]},
    ],
)
def test_overlapping_or_backwards_periods_are_refused(weekly):
    with pytest.raises(ValueError, match="weekday 0"):
        BusinessCalendarSpec(time_zone="UTC", weekly=weekly)


def test_naive_datetimes_and_negative_minutes_are_refused():
    spec = BusinessCalendarSpec(time_zone="UTC", is_24x7=True)
    with pytest.raises(ValueError, match="aware"):
        spec.add_business_minutes(datetime(2026, 1, 1), 1)
    with pytest.raises(ValueError, match="negative"):
        spec.add_business_minutes(datetime(2026, 1, 1, tzinfo=UTC), -1)
