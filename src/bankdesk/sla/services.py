"""Writes for business calendars, SLA policies and the recompute of open clocks."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from bankdesk.customers.choices import Tier
from bankdesk.lib.channels import Channel
from bankdesk.lib.errors import InvalidInput
from bankdesk.security.audit import audit_record
from bankdesk.sla.choices import (
    DAY_BASES,
    ClockStatus,
    DayKind,
    EscalationAction,
    Threshold,
    TimeBasis,
    Weekday,
)
from bankdesk.sla.clocks import sla_clocks_recompute_case
from bankdesk.sla.errors import NoticeInvalid, PolicyExists, PolicyNotFound
from bankdesk.sla.models import (
    BusinessCalendar,
    CalendarDay,
    SlaClock,
    SlaEscalation,
    SlaPolicy,
    SlaTarget,
    WorkingPeriod,
)
from bankdesk.sla.notices import OfficialNotice
from bankdesk.sla.seed import SeedReport, calendar_horizons_seed_into, calendars_seed_into
from bankdesk.sla.snapshot import sla_settings_changed
from bankdesk.staff.models import Team
from bankdesk.tickets.choices import ACTIVE_STATUSES, CaseStatus, Priority
from bankdesk.tickets.models import Case, Category

# Statuses in which a policy may stop its clocks (resolution also stops while resolved).
PAUSABLE_STATUSES = (CaseStatus.PENDING_CUSTOMER, CaseStatus.PENDING_INTERNAL)
MINUTES_MAX = 5_256_000  # SlaTarget.minutes: ten years


def calendars_seed(*, actor: Any = None) -> SeedReport:
    """Create the standard calendars, refresh their published holidays and move how far they
    are known forward, audited."""
    with transaction.atomic():
        report = calendars_seed_into(
            calendar_model=BusinessCalendar, period_model=WorkingPeriod, day_model=CalendarDay
        )
        horizons = calendar_horizons_seed_into(calendar_model=BusinessCalendar)
        if report.calendars_created or report.days_written or horizons:
            sla_settings_changed()  # written in bulk, past the model signals
            audit_record(
                actor=actor,
                action="sla.calendars_seed",
                object_type="sla.businesscalendar",
                fields=["code", "periods", "days", "known_until"],
                reason=(
                    f"{report.calendars_created} calendars, {report.days_written} days, "
                    f"{horizons} horizons moved"
                ),
            )
    return report


@dataclass(frozen=True)
class NoticeLoadReport:
    year: int
    holidays: int
    working_days: int
    added: int
    corrected: int
    known_until: date
    # Days of the year already on the calendar that the notice does not list (the bank's own).
    kept: tuple[date, ...]

    @property
    def said(self) -> str:
        """What the screens that load a notice (the console's, the admin's) tell the user."""
        return _(
            "The official notice for %(year)s is loaded: %(holidays)s holidays and "
            "%(working)s adjusted working days; holidays are known until %(date)s. "
            "The clocks of open cases are being worked out again."
        ) % {
            "year": self.year,
            "holidays": self.holidays,
            "working": self.working_days,
            "date": self.known_until.isoformat(),
        }


def _notice_problems(calendar: BusinessCalendar, notice: OfficialNotice) -> list[str]:
    """What the notice cannot mean for this calendar: each line must change its week."""
    if calendar.is_24x7:
        return [
            _("calendar %(code)s works round the clock: it has no holidays")
            % {"code": calendar.code}
        ]
    known = calendar.known_until
    if known is not None and notice.year > known.year + 1:
        return [
            _("calendar %(code)s is known until %(date)s: load %(next)s's notice first")
            % {"code": calendar.code, "date": known.isoformat(), "next": known.year + 1}
        ]
    weekly = set(calendar.periods.values_list("weekday", flat=True).distinct())
    problems = []
    for day in notice.days:
        weekday = Weekday(day.date.weekday()).label
        facts = {"line": day.line, "date": day.date.isoformat(), "weekday": weekday}
        works = day.date.weekday() in weekly
        if day.kind == DayKind.HOLIDAY and not works:
            problems.append(
                _("line %(line)s: %(date)s is a %(weekday)s, not a working day on this calendar")
                % facts
            )
        elif day.kind == DayKind.EXTRA_WORKING_DAY and works:
            problems.append(
                _("line %(line)s: %(date)s is a %(weekday)s, a working day already") % facts
            )
    return problems


@transaction.atomic
def calendar_notice_load(
    *, calendar: BusinessCalendar, notice: OfficialNotice, actor: Any
) -> NoticeLoadReport:
    """Load a year's official holiday notice into a calendar: its holidays and adjusted working
    days are added (or corrected to what the notice says), and the calendar is known to the end
    of that year. Audited. Refused whole, changing nothing, if any line does not fit.

    The clocks of open cases on the calendar are not touched here: the caller runs
    `sla_clocks_recompute(calendar=…, renew_terms=False)` next, at once or on the worker.
    """
    calendar = BusinessCalendar.objects.select_for_update().get(pk=calendar.pk)
    problems = _notice_problems(calendar, notice)
    if problems:
        raise NoticeInvalid(problems)
    existing = {
        day.date: day for day in calendar.days.filter(date__in=[d.date for d in notice.days])
    }
    added: list[CalendarDay] = []
    corrected: list[CalendarDay] = []
    for day in notice.days:
        row = existing.get(day.date)
        if row is None:
            added.append(
                CalendarDay(calendar=calendar, date=day.date, kind=day.kind, name=day.name)
            )
        elif (row.kind, row.name) != (day.kind, day.name):
            row.kind, row.name = day.kind, day.name
            corrected.append(row)
    CalendarDay.objects.bulk_create(added)
    CalendarDay.objects.bulk_update(corrected, ["kind", "name"])
    sla_settings_changed()  # written in bulk, past the model signals
    # A correction to a year already known leaves the horizon where it is.
    known_until = max(date(notice.year, 12, 31), calendar.known_until or date.min)
    if calendar.known_until != known_until:
        calendar.known_until = known_until
        calendar.save(update_fields=["known_until"])
    listed = {day.date for day in notice.days}
    kept = tuple(
        sorted(
            d
            for d in calendar.days.filter(date__year=notice.year).values_list("date", flat=True)
            if d not in listed
        )
    )
    audit_record(
        actor=actor,
        action="sla.calendar_notice_load",
        target=calendar,
        fields=["days", "known_until"],
        reason=(
            f"official notice for {notice.year}: {notice.holidays} holidays, "
            f"{notice.working_days} adjusted working days; {len(added)} added, "
            f"{len(corrected)} corrected; known until {known_until}"
        ),
    )
    return NoticeLoadReport(
        year=notice.year,
        holidays=notice.holidays,
        working_days=notice.working_days,
        added=len(added),
        corrected=len(corrected),
        known_until=known_until,
        kept=kept,
    )


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
    calendar: BusinessCalendar | None = None,
    renew_terms: bool = True,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
) -> RecomputeReport:
    """Apply the policies as they stand now to the clocks of every open case (or of the open
    cases under one policy): the only way a policy change reaches cases already running.

    With a `calendar` and `renew_terms` False it serves a calendar whose holidays changed (a
    year's notice loaded): the open cases with a clock still running or paused on it are worked
    out again with the terms they have.

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
    if calendar is not None:
        on_calendar = SlaClock.objects.filter(
            calendar=calendar, status__in=[ClockStatus.RUNNING, ClockStatus.PAUSED]
        )
        cases = cases.filter(pk__in=on_calendar.values("case_id"))
    done = changed = 0
    for case_id in cases.order_by("pk").values_list("pk", flat=True).iterator(chunk_size=2000):
        changed += sla_clocks_recompute_case(
            case_id=case_id, dry_run=dry_run, renew_terms=renew_terms
        )
        done += 1
        if progress is not None:
            progress(done)
    if not dry_run:
        scope = f"policy {policy_code or 'all'}"
        if calendar is not None:
            scope += f", calendar {calendar.code}"
        fields = ["minutes", "basis", "calendar", "warning_percent", "pause_statuses"]
        with transaction.atomic():
            audit_record(
                actor=actor,
                action="sla.clocks_recompute",
                object_type="sla.slaclock",
                fields=fields if renew_terms else ["due_at", "warn_at", "is_provisional"],
                reason=f"{reason} — {scope}: {done} cases, {changed} clocks",
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
    extensions: tuple[int, ...] = ()  # longer limits, each needing an approval (minutes)


_DAY_MINUTES = 24 * 60


def _check_limits(spec: TargetSpec) -> list[int]:
    """A day-counted target is whole days; its extensions grow, step by step."""
    limits = [spec.minutes, *spec.extensions]
    if spec.basis in DAY_BASES and any(minutes % _DAY_MINUTES for minutes in limits):
        raise InvalidInput(f"{spec.name}: a target counted in days is whole days", field="targets")
    if any(later <= earlier for earlier, later in itertools.pairwise(limits)):
        raise InvalidInput(f"{spec.name}: each extension is longer than the limit before it",
                           field="targets")  # fmt: skip
    if any(minutes > MINUTES_MAX for minutes in limits):
        raise InvalidInput(f"{spec.name}: a limit is at most ten years", field="targets")
    return list(spec.extensions)


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
    regulator: str = "",
) -> SlaPolicy:
    """Add a policy with its targets and escalations. It applies to cases opened (or
    re-categorised) from now on; open cases take it up only through a recompute. A policy
    with a regulator's code is statutory: it applies beside the bank's own."""
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
        regulator=regulator.strip().lower(),
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
            extensions=_check_limits(spec),
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


@transaction.atomic
def sla_policy_active_set(*, policy: SlaPolicy, is_active: bool, actor: Any) -> SlaPolicy:
    """Take a policy out of use, keeping its targets, or put it back. Cases opened (or
    re-categorised) from now on are matched without it; open cases keep their clocks until a
    recompute. Audited."""
    policy = SlaPolicy.objects.select_for_update().get(pk=policy.pk)
    if policy.is_active != is_active:
        policy.is_active = is_active
        policy.save(update_fields=["is_active"])  # the settings stamp changes with the save
        audit_record(
            actor=actor,
            action="sla.policy_activate" if is_active else "sla.policy_deactivate",
            target=policy,
            fields=["is_active"],
        )
    return policy


def _full_clean(instance: Any, prefix: str = "") -> None:
    try:
        instance.full_clean(validate_unique=False)
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        where = f"{prefix}.{field}" if prefix else field
        raise InvalidInput(f"{where}: {' '.join(messages)}", field=prefix or field) from exc
