"""The SLA sweep: notice warnings and breaches, and fire each escalation exactly once.

The sweep only reads the clocks whose next check has come (a partial index holds just the
running clocks with one), marks them in a few set-based statements and records one firing per
(clock, escalation); a unique constraint makes a second sweep, or two sweeps at once, add
nothing. The actions run afterwards, each in its own transaction together with the mark that
it ran, so an action is neither lost nor repeated when a worker dies.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone

from bankdesk.lib.errors import BankdeskError
from bankdesk.sla.choices import ClockStatus, EscalationAction, Threshold
from bankdesk.sla.models import SlaAlert, SlaClock, SlaEscalation, SlaFiring
from bankdesk.staff.choices import Role
from bankdesk.staff.models import User
from bankdesk.tickets.choices import PRIORITY_ORDER, CaseStatus, priority_at_least
from bankdesk.tickets.services import case_assign, case_priority_change

logger = logging.getLogger(__name__)

SWEEP_BATCH = 5000
FIRING_BATCH = 200


@dataclass(frozen=True)
class SweepReport:
    warned: int
    breached: int
    firings: int


def _record_firings(clock_ids: list[int], threshold: str, now: datetime) -> int:
    """One firing per (clock, escalation of its target at this threshold), in one statement;
    pairs already recorded are skipped by the unique constraint. Returns how many were new."""
    if not clock_ids:
        return 0
    quote = connection.ops.quote_name
    firing, clock, escalation = (
        quote(model._meta.db_table) for model in (SlaFiring, SlaClock, SlaEscalation)
    )
    placeholders = ", ".join(["%s"] * len(clock_ids))
    # The WHERE clause also keeps SQLite from reading ON CONFLICT as part of the join.
    # Table names come from the models and every value is bound.
    sql = (
        f"INSERT INTO {firing} (clock_id, escalation_id, fired_at, outcome) "  # noqa: S608  # nosec B608
        f"SELECT c.id, e.id, %s, '' FROM {clock} c "
        f"JOIN {escalation} e ON e.target_id = c.target_id AND e.threshold = %s "
        f"WHERE c.id IN ({placeholders}) "
        "ON CONFLICT (clock_id, escalation_id) DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [now, threshold, *clock_ids])
        return max(cursor.rowcount, 0)


def _sweep_batch(now: datetime, batch: int) -> SweepReport:
    with transaction.atomic():
        rows = list(
            SlaClock.objects.select_for_update(skip_locked=True)
            .filter(status=ClockStatus.RUNNING, next_check_at__lte=now)
            .order_by("next_check_at")
            .values_list("pk", "warn_at", "due_at", "warned_at")[:batch]
        )
        breaching = [pk for pk, _, due_at, _ in rows if due_at is not None and due_at <= now]
        breaching_set = set(breaching)
        warning_only = [pk for pk, *_ in rows if pk not in breaching_set]
        # A clock that breaches without having been warned gets its warning too.
        warned_now = [
            pk
            for pk, warn_at, _, warned_at in rows
            if warned_at is None and warn_at is not None and warn_at <= now
        ]
        if breaching:
            SlaClock.objects.filter(pk__in=breaching).update(
                warned_at=Case(
                    When(warned_at__isnull=True, warn_at__isnull=False, then=Value(now)),
                    default=F("warned_at"),
                ),
                breached_at=now,
                next_check_at=None,
                updated_at=now,
            )
        if warning_only:
            SlaClock.objects.filter(pk__in=warning_only).update(
                warned_at=now, next_check_at=F("due_at"), updated_at=now
            )
        created = _record_firings(warned_now, Threshold.WARNING, now) + _record_firings(
            breaching, Threshold.BREACH, now
        )
        if created:
            transaction.on_commit(_enqueue_firings)
    return SweepReport(warned=len(warning_only), breached=len(breaching), firings=created)


def _enqueue_firings() -> None:
    from bankdesk.sla.tasks import sla_firings_run  # the task module imports this one

    sla_firings_run.enqueue()


def sla_sweep(*, now: datetime | None = None, batch: int = SWEEP_BATCH) -> SweepReport:
    """Mark every clock whose warning or due time has come, batch by batch, and record the
    escalations to fire. Returns the totals."""
    now = now or timezone.now()
    warned = breached = fired = 0
    while True:
        report = _sweep_batch(now, batch)
        warned, breached, fired = (
            warned + report.warned,
            breached + report.breached,
            fired + report.firings,
        )
        if report.warned + report.breached < batch:
            return SweepReport(warned=warned, breached=breached, firings=fired)


# -- the actions --------------------------------------------------------------------------------


def _raised(current: str, floor: str) -> str:
    step_up = PRIORITY_ORDER[min(PRIORITY_ORDER.index(current) + 1, len(PRIORITY_ORDER) - 1)]
    return priority_at_least(current, floor or step_up)


def _supervisors_for(team_id: int | None) -> list[User]:
    people = User.objects.filter(is_active=True, role=Role.SUPERVISOR)
    in_team = list(people.filter(teams=team_id)) if team_id is not None else []
    return in_team or list(people)


def _act(firing: SlaFiring) -> str:
    clock = firing.clock
    escalation = firing.escalation
    case = clock.case
    if case.status in {CaseStatus.RESOLVED, CaseStatus.CLOSED}:
        return "case already resolved; nothing done"
    if clock.status != ClockStatus.RUNNING:
        return f"clock {clock.status} before the escalation ran; nothing done"
    if escalation.action == EscalationAction.NOTIFY_SUPERVISOR:
        recipients = _supervisors_for(case.team_id)
        SlaAlert.objects.bulk_create(
            SlaAlert(recipient=person, case=case, clock=clock, threshold=escalation.threshold)
            for person in recipients
        )
        return f"notified {len(recipients)} supervisors"
    if escalation.action == EscalationAction.RAISE_PRIORITY:
        wanted = _raised(case.priority, escalation.priority)
        if wanted == case.priority:
            return f"priority already {case.priority}"
        case_priority_change(case=case, priority=wanted, actor=None)
        return f"priority raised to {wanted}"
    team = escalation.team
    if team is None:  # refused by a constraint; kept for the type checker
        return "no team named; nothing done"
    case_assign(case=case, team=team, assignee=None, actor=None)
    return f"reassigned to team {team.code}"


def sla_firing_run(*, firing_id: int) -> bool:
    """Carry out one recorded escalation, once: the action and the mark that it ran commit
    together, and a firing already done (or being done by another worker) is left alone."""
    with transaction.atomic():
        firing = (
            SlaFiring.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("clock__case", "escalation__team")
            .filter(pk=firing_id, done_at__isnull=True)
            .first()
        )
        if firing is None:
            return False
        try:
            with transaction.atomic():
                outcome = _act(firing)
        except BankdeskError as exc:
            outcome = f"could not act: {exc}"
            logger.warning("escalation %s on clock %s: %s", firing.pk, firing.clock_id, exc)
        firing.done_at = timezone.now()
        firing.outcome = outcome[:200]
        firing.save(update_fields=["done_at", "outcome"])
    return True


def sla_firings_pending(limit: int = FIRING_BATCH) -> list[int]:
    return list(
        SlaFiring.objects.filter(done_at__isnull=True)
        .order_by("fired_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
