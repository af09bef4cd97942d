"""Writes for business calendars."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from bankdesk.security.audit import audit_record
from bankdesk.sla.models import BusinessCalendar, CalendarDay, WorkingPeriod
from bankdesk.sla.seed import SeedReport, calendars_seed_into


def calendars_seed(*, actor: Any = None) -> SeedReport:
    """Create the standard calendars and refresh their published holidays, audited."""
    with transaction.atomic():
        report = calendars_seed_into(
            calendar_model=BusinessCalendar, period_model=WorkingPeriod, day_model=CalendarDay
        )
        if report.calendars_created or report.days_written:
            audit_record(
                actor=actor,
                action="sla.calendars_seed",
                object_type="sla.businesscalendar",
                fields=["code", "periods", "days"],
                reason=f"{report.calendars_created} calendars, {report.days_written} days",
            )
    return report
