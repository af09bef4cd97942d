"""The standard calendars: present after migrating, seeded idempotently, audited, validated."""

from __future__ import annotations

from datetime import date, time
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import translation

from bankdesk.security.models import AuditEntry
from bankdesk.sla.choices import DayKind
from bankdesk.sla.models import BusinessCalendar, CalendarDay, WorkingPeriod
from bankdesk.sla.services import calendars_seed

pytestmark = pytest.mark.django_db


def test_a_fresh_install_has_the_three_standard_calendars():
    calendars_seed()  # no-op after the data migration, unless a test flushed the tables
    assert set(BusinessCalendar.objects.values_list("code", flat=True)) >= {
        "cn-mainland",
        "hk",
        "24x7",
    }


def test_mainland_china_has_holidays_on_weekdays_and_working_weekends():
    calendars_seed()
    days = CalendarDay.objects.filter(calendar__code="cn-mainland")
    national_day = days.get(date=date(2026, 10, 1))
    assert (national_day.kind, national_day.name) == (DayKind.HOLIDAY, "国庆节")
    assert days.get(date=date(2026, 9, 20)).kind == DayKind.EXTRA_WORKING_DAY
    assert not days.filter(date=date(2026, 10, 3)).exists()  # a Saturday anyway
    assert days.filter(date__year=2004).exists()  # every year the package covers
    assert all(
        (d.weekday() < 5) == (k == DayKind.HOLIDAY) for d, k in days.values_list("date", "kind")
    )


def test_hong_kong_works_a_split_shift_and_keeps_its_public_holidays():
    calendars_seed()
    hk = BusinessCalendar.objects.get(code="hk")
    monday = list(hk.periods.filter(weekday=0).values_list("start", "end"))
    assert monday == [(time(9), time(13)), (time(14), time(17, 30))]
    assert hk.days.filter(date=date(2026, 7, 1), kind=DayKind.HOLIDAY).exists()


def test_seeding_again_changes_nothing_and_keeps_admin_edits():
    calendars_seed()
    cn = BusinessCalendar.objects.get(code="cn-mainland")
    cn.periods.filter(weekday=0).update(end=time(18))
    CalendarDay.objects.create(calendar=cn, date=date(2026, 12, 24), kind=DayKind.HOLIDAY)
    before = (
        WorkingPeriod.objects.count(),
        CalendarDay.objects.count(),
        AuditEntry.objects.count(),
    )
    report = calendars_seed()
    assert (report.calendars_created, report.days_written) == (0, 0)
    after = (WorkingPeriod.objects.count(), CalendarDay.objects.count(), AuditEntry.objects.count())
    assert after == before
    assert cn.periods.get(weekday=0).end == time(18)


def test_seeding_an_empty_database_is_audited():
    BusinessCalendar.objects.all().delete()
    out = StringIO()
    call_command("calendars", "seed", stdout=out)
    assert out.getvalue().startswith("3 calendars created")
    assert AuditEntry.objects.filter(action="sla.calendars_seed").count() == 1


def test_a_time_zone_must_be_an_iana_name():
    calendar = BusinessCalendar(code="mars", name="Mars", time_zone="Mars/Olympus_Mons")
    with translation.override("en"), pytest.raises(ValidationError, match="time_zone"):
        calendar.full_clean()


def test_overlapping_periods_are_refused_by_validation():
    calendar = BusinessCalendar.objects.create(code="branch", name="Branch")
    WorkingPeriod.objects.create(calendar=calendar, weekday=0, start=time(9), end=time(12))
    overlapping = WorkingPeriod(calendar=calendar, weekday=0, start=time(11), end=time(13))
    with translation.override("en"), pytest.raises(ValidationError, match="overlaps"):
        overlapping.full_clean()
    WorkingPeriod(calendar=calendar, weekday=0, start=time(13, 30), end=time(17, 30)).full_clean()


def test_a_period_that_ends_before_it_starts_is_refused_by_the_database():
    calendar = BusinessCalendar.objects.create(code="branch", name="Branch")
    with pytest.raises(IntegrityError), transaction.atomic():
        WorkingPeriod.objects.create(calendar=calendar, weekday=0, start=time(12), end=time(9))
