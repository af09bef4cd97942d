"""Background work for SLA clocks: the periodic sweep and the escalations it records, the daily
look at how far each calendar's holidays are known, and clocks worked out again after a
calendar's holidays changed."""

from __future__ import annotations

import logging

from django_tasks import task

from bankdesk.sla.models import BusinessCalendar
from bankdesk.sla.selectors import calendar_horizon_warnings
from bankdesk.sla.services import sla_clocks_recompute
from bankdesk.sla.sweep import sla_firing_run, sla_firings_pending, sla_sweep
from bankdesk.staff.models import User

logger = logging.getLogger("bankdesk.sla")


@task()
def sla_sweep_run() -> int:
    """Notice warnings and breaches due by now; returns how many escalations were recorded."""
    return sla_sweep().firings


@task()
def sla_firings_run() -> int:
    """Carry out every recorded escalation not yet done; returns how many this run did."""
    done = 0
    while True:
        pending = sla_firings_pending()
        ran = sum(sla_firing_run(firing_id=firing_id) for firing_id in pending)
        done += ran
        if not pending or not ran:
            return done


@task()
def calendar_horizon_check_run() -> int:
    """Say, every day, which calendars' published holidays end within the warning window (or
    have ended): operators' logs are one of the places administrators are told. Returns how
    many."""
    horizons = calendar_horizon_warnings()
    for horizon in horizons:
        logger.warning(horizon.describe())
    return len(horizons)


@task()
def sla_calendar_clocks_refresh_run(
    *, calendar_code: str, reason: str, actor_id: int | None
) -> int:
    """Work out again the clocks of open cases on a calendar whose holidays just changed (a
    notice loaded in the admin screens), with the terms they have. Returns how many cases."""
    calendar = BusinessCalendar.objects.get(code=calendar_code)
    actor = User.objects.filter(pk=actor_id).first() if actor_id is not None else None
    report = sla_clocks_recompute(actor=actor, reason=reason, calendar=calendar, renew_terms=False)
    return report.cases
