"""Writes for business calendars, SLA policies and the recompute of open clocks."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from bankdesk.customers.choices import Tier
from bankdesk.lib.channels import Channel
from bankdesk.lib.errors import InvalidInput
from bankdesk.security.audit import audit_record
from bankdesk.sla.choices import EscalationAction, Threshold, TimeBasis
from bankdesk.sla.clocks import CalendarSpecs, sla_clocks_recompute_case
from bankdesk.sla.errors import PolicyExists, PolicyNotFound
from bankdesk.sla.models import (
    BusinessCalendar,
    CalendarDay,
    SlaEscalation,
    SlaPolicy,
    SlaTarget,
    WorkingPeriod,
)
from bankdesk.sla.seed import SeedReport, calendars_seed_into
from bankdesk.staff.models import Team
from bankdesk.tickets.choices import ACTIVE_STATUSES, CaseStatus, Priority
from bankdesk.tickets.models import Case, Category

# Statuses in which a policy may stop its clocks (resolution also stops while resolved).
PAUSABLE_STATUSES = (CaseStatus.PENDING_CUSTOMER, CaseStatus.PENDING_INTERNAL)


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


@dataclass(frozen=True)
class RecomputeReport:
    cases: int
    clocks_changed: int
    dry_run: bool


def sla_clocks_recompute(
    *,
    actor: Any,
    reason: str,
    policy_code: str | None = None,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
) -> RecomputeReport:
    """Apply the policies as they stand now to the clocks of every open case (or of the open
    cases under one policy): the only way a policy change reaches cases already running.

    Each case is recomputed in its own short transaction under its row lock, so the service
    centre keeps working meanwhile. The run is audited with its reason and counts.
    """
    reason = reason.strip()
    if not reason:
        raise InvalidInput("a recompute needs a reason", field="reason")
    cases = Case.objects.filter(status__in=sorted(ACTIVE_STATUSES))
    if policy_code is not None:
        policy = SlaPolicy.objects.filter(code=policy_code).first()
        if policy is None:
            raise PolicyNotFound(f"SLA policy {policy_code} not found", field="policy")
        cases = cases.filter(sla_clocks__target__policy=policy).distinct()
    specs = CalendarSpecs()
    done = changed = 0
    for case_id in cases.order_by("pk").values_list("pk", flat=True).iterator(chunk_size=2000):
        changed += sla_clocks_recompute_case(case_id=case_id, specs=specs, dry_run=dry_run)
        done += 1
        if progress is not None:
            progress(done)
    if not dry_run:
        with transaction.atomic():
            audit_record(
                actor=actor,
                action="sla.clocks_recompute",
                object_type="sla.slaclock",
                fields=["minutes", "basis", "calendar", "warning_percent", "pause_statuses"],
                reason=f"{reason} — policy {policy_code or 'all'}: {done} cases, {changed} clocks",
            )
    return RecomputeReport(cases=done, clocks_changed=changed, dry_run=dry_run)


@dataclass(frozen=True)
class EscalationSpec:
    threshold: str
    action: str
    team: Team | None = None
    priority: str = ""


@dataclass(frozen=True)
class TargetSpec:
    name: str
    metric: str
    minutes: int
    basis: str = TimeBasis.BUSINESS
    warning_percent: int | None = None
    escalations: tuple[EscalationSpec, ...] = ()


def _check_choices(values: Sequence[str], allowed: Sequence[str], field: str) -> list[str]:
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise InvalidInput(f"unknown {field}: {', '.join(unknown)}", field=field)
    return sorted(set(values))


@transaction.atomic
def sla_policy_create(
    *,
    code: str,
    name: str,
    targets: Sequence[TargetSpec],
    actor: Any,
    position: int = 100,
    categories: Sequence[Category] = (),
    priorities: Sequence[str] = (),
    channels: Sequence[str] = (),
    customer_tiers: Sequence[str] = (),
    is_complaint: bool | None = None,
    pause_statuses: Sequence[str] = (),
    calendar: BusinessCalendar | None = None,
) -> SlaPolicy:
    """Add a policy with its targets and escalations. It applies to cases opened (or
    re-categorised) from now on; open cases take it up only through a recompute."""
    if not targets:
        raise InvalidInput("a policy needs at least one target", field="targets")
    if code and SlaPolicy.objects.filter(code=code).exists():
        raise PolicyExists(f"SLA policy {code} already exists", field="code")
    policy = SlaPolicy(
        code=code,
        name=name.strip(),
        position=position,
        priorities=_check_choices(priorities, Priority.values, "priorities"),
        channels=_check_choices(channels, Channel.values, "channels"),
        customer_tiers=_check_choices(customer_tiers, Tier.values, "customer_tiers"),
        is_complaint=is_complaint,
        pause_statuses=_check_choices(pause_statuses, PAUSABLE_STATUSES, "pause_statuses"),
        calendar=calendar,
    )
    _full_clean(policy)
    policy.save()
    policy.categories.set(categories)
    names: set[str] = set()
    for spec in targets:
        if spec.name.strip() in names:
            raise InvalidInput(f"two targets are named {spec.name}", field="targets")
        names.add(spec.name.strip())
        target = SlaTarget(
            policy=policy,
            name=spec.name.strip(),
            metric=spec.metric,
            minutes=spec.minutes,
            basis=spec.basis,
            warning_percent=spec.warning_percent,
        )
        _full_clean(target, prefix="targets")
        target.save()
        for escalation_spec in spec.escalations:
            escalation = SlaEscalation(
                target=target,
                threshold=escalation_spec.threshold,
                action=escalation_spec.action,
                team=escalation_spec.team,
                priority=escalation_spec.priority,
            )
            if escalation.action == EscalationAction.REASSIGN_TEAM and escalation.team is None:
                raise InvalidInput("a reassignment names its team", field="escalations")
            if escalation.threshold == Threshold.WARNING and not target.warning_percent:
                raise InvalidInput(
                    "a warning escalation needs the target's warning_percent", field="escalations"
                )
            _full_clean(escalation, prefix="escalations")
            escalation.save()
    audit_record(
        actor=actor,
        action="sla.policy_create",
        target=policy,
        fields=["code", "name", "conditions", "targets", "escalations"],
    )
    return policy


def _full_clean(instance: Any, prefix: str = "") -> None:
    try:
        instance.full_clean(validate_unique=False)
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        where = f"{prefix}.{field}" if prefix else field
        raise InvalidInput(f"{where}: {' '.join(messages)}", field=prefix or field) from exc
