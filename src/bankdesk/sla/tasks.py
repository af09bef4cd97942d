"""Background work for SLA clocks: the periodic sweep and the escalations it records."""

from __future__ import annotations

from django_tasks import task

from bankdesk.sla.sweep import sla_firing_run, sla_firings_pending, sla_sweep


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
