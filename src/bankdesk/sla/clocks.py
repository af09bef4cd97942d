"""Keeping a case's SLA clocks true to its history.

Case services call `sla_clocks_sync` after every change that can move a clock (opened, status,
priority, category, a message, a merge), in their own transaction and under their lock on the
case. The clocks are replayed from the case's events (`sla.replay`) with the terms each clock
took when it started; only `sla_clocks_recompute` gives open clocks a policy's new terms.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache, partial

from django.db import transaction
from django.utils import timezone

from bankdesk.sla.calendar import BusinessCalendarSpec
from bankdesk.sla.choices import DAY_BASES, ClockStatus, TimeBasis
from bankdesk.sla.days import DayCount
from bankdesk.sla.history import case_history
from bankdesk.sla.matching import policies_for_case
from bankdesk.sla.models import SlaClock, SlaClockPause, SlaPolicy, SlaTarget
from bankdesk.sla.replay import ClockRule, ClockRun, clock_runs
from bankdesk.sla.snapshot import SlaSettings, sla_settings
from bankdesk.staff.models import Branch, Team
from bankdesk.tickets.models import Case

_FINISHED = (ClockStatus.MET, ClockStatus.CANCELLED)


@dataclass(frozen=True)
class Terms:
    """A clock's copy of its target: what it measures and on which time."""

    name: str
    metric: str
    minutes: int
    basis: str
    calendar_id: int | None
    warning_percent: int | None
    pause_statuses: tuple[str, ...]
    extension: int = 0

    @property
    def rule(self) -> ClockRule:
        return ClockRule(
            metric=self.metric,
            target=timedelta(minutes=self.minutes),
            pause_statuses=frozenset(self.pause_statuses),
            warning_percent=self.warning_percent,
        )


def _business_calendar_id(case: Case, policy: SlaPolicy, settings: SlaSettings) -> int | None:
    """The policy's calendar, else the case's own (`_case_calendar_id`)."""
    if policy.calendar_id is not None:
        return policy.calendar_id
    return _case_calendar_id(case, settings)


def case_calendar(case: Case) -> BusinessCalendarSpec:
    """The business calendar the case's own work runs on (a follow-up's due time, say): that
    of the branch it was raised at, else its team's, else the bank's standard one."""
    settings = sla_settings()
    return settings.spec(_case_calendar_id(case, settings))


def _case_calendar_id(case: Case, settings: SlaSettings) -> int | None:
    if case.branch_id is not None:
        branch_calendar = Branch.objects.filter(pk=case.branch_id).values_list(
            "calendar_id", flat=True
        )
        calendar_id = branch_calendar.first()
        if calendar_id is not None:
            return calendar_id
    if case.team_id is not None:
        team_calendar = Team.objects.filter(pk=case.team_id).values_list("calendar_id", flat=True)
        calendar_id = team_calendar.first()
        if calendar_id is not None:
            return calendar_id
    return settings.default_calendar_id


def extended_minutes(target: SlaTarget, extension: int) -> int:
    """The target's limit after `extension` approved extensions (0: none)."""
    steps = [target.minutes, *target.extensions]
    return int(steps[min(extension, len(steps) - 1)])


def terms_of(
    target: SlaTarget, business_calendar: Callable[[], int | None], extension: int = 0
) -> Terms:
    """The target's terms now; `business_calendar` names the calendar for business minutes
    and days. An extended clock keeps its approved extension."""
    policy = target.policy
    on_calendar = target.basis != TimeBasis.CALENDAR
    return Terms(
        name=target.name,
        metric=target.metric,
        minutes=extended_minutes(target, extension),
        basis=target.basis,
        calendar_id=business_calendar() if on_calendar else None,
        warning_percent=target.warning_percent,
        pause_statuses=tuple(sorted(policy.pause_statuses)),
        extension=extension,
    )


def terms_kept(clock: SlaClock) -> Terms:
    return Terms(
        name=clock.name,
        metric=clock.metric,
        minutes=clock.minutes,
        basis=clock.basis,
        calendar_id=clock.calendar_id,
        warning_percent=clock.warning_percent,
        pause_statuses=tuple(clock.pause_statuses),
        extension=clock.extension,
    )


def working_time(terms: Terms, spec: BusinessCalendarSpec) -> BusinessCalendarSpec | DayCount:
    """What the replay counts the clock's time on: business time, or dates."""
    return DayCount(spec, terms.basis) if terms.basis in DAY_BASES else spec


def next_check(run: ClockRun, warned: bool, breached: bool) -> datetime | None:
    """When the sweep must next look: the warning, then the breach; nothing once both passed."""
    if run.status != ClockStatus.RUNNING:
        return None
    if run.warn_at is not None and not warned:
        return run.warn_at
    if run.due_at is not None and not breached:
        return run.due_at
    return None


def reaches_past_known_days(run: ClockRun, spec: BusinessCalendarSpec) -> bool:
    """Whether working out this clock used days whose holidays are not published yet.

    The replay reads the calendar from the clock's start to the furthest of these moments (its
    due time, or where it stopped or last paused), and nowhere else.
    """
    moments = [run.started_at, run.due_at, run.warn_at, run.met_at, run.stopped_at]
    for pause in run.pauses:
        moments += [pause.started_at, pause.ended_at]
    return not spec.is_known(max(moment for moment in moments if moment is not None))


def _write(
    case: Case,
    target_id: int,
    terms: Terms,
    runs: Iterable[ClockRun],
    existing: dict[tuple[int, int], SlaClock],
    spec: BusinessCalendarSpec,
) -> list[SlaClock]:
    now = timezone.now()
    written = []
    for run in runs:
        clock = existing.get((target_id, run.cycle)) or SlaClock(
            case=case, target_id=target_id, cycle=run.cycle
        )
        values = {
            "name": terms.name,
            "metric": terms.metric,
            "minutes": terms.minutes,
            "basis": terms.basis,
            "calendar_id": terms.calendar_id,
            "warning_percent": terms.warning_percent,
            "pause_statuses": list(terms.pause_statuses),
            "extension": terms.extension,
            "status": run.status,
            "started_at": run.started_at,
            "consumed": run.consumed,
            "due_at": run.due_at,
            "warn_at": run.warn_at,
            "met_at": run.met_at,
            "stopped_at": run.stopped_at,
            "is_provisional": reaches_past_known_days(run, spec),
            "next_check_at": next_check(
                run, clock.warned_at is not None, clock.breached_at is not None
            ),
        }
        changed = [name for name, value in values.items() if getattr(clock, name) != value]
        is_new = clock.pk is None
        if is_new or changed:
            for name, value in values.items():
                setattr(clock, name, value)
            clock.updated_at = now
            clock.save()
        _write_pauses(clock, run, is_new=is_new)
        written.append(clock)
    return written


def _write_pauses(clock: SlaClock, run: ClockRun, *, is_new: bool) -> None:
    """Append new ledger lines and close the open one; a recompute may also drop lines."""
    kept = {} if is_new else {pause.started_at: pause for pause in clock.pauses.all()}
    for pause in run.pauses:
        line = kept.pop(pause.started_at, None)
        if line is None:
            SlaClockPause.objects.create(
                clock=clock,
                started_at=pause.started_at,
                ended_at=pause.ended_at,
                status=pause.status,
            )
        elif (line.ended_at, line.status) != (pause.ended_at, pause.status):
            line.ended_at, line.status = pause.ended_at, pause.status
            line.save(update_fields=["ended_at", "status"])
    if kept:
        SlaClockPause.objects.filter(pk__in=[line.pk for line in kept.values()]).delete()


def _cancel(clocks: Iterable[SlaClock]) -> None:
    now = timezone.now()
    for clock in clocks:
        if clock.status in _FINISHED:
            continue
        clock.status = ClockStatus.CANCELLED
        clock.stopped_at = now
        clock.next_check_at = None
        clock.due_at = None if clock.due_at and clock.due_at > now else clock.due_at
        clock.updated_at = now
        clock.save()


def _sync(case: Case, *, renew_terms: bool, settings: SlaSettings) -> list[SlaClock]:
    clocks = list(SlaClock.objects.filter(case_id=case.pk).prefetch_related("pauses"))
    governing = policies_for_case(case, settings)
    target_ids = {target.pk for rules in governing for target in rules.targets}
    # A case that no longer falls under a policy keeps the record of its old clocks, cancelled.
    _cancel(clock for clock in clocks if clock.target_id not in target_ids)
    if not governing:
        _keep_case_due(case, clocks)
        return []
    existing = {(clock.target_id, clock.cycle): clock for clock in clocks}
    history = case_history(case)
    written: list[SlaClock] = []
    for rules in governing:
        # Looked up at most once, and only when a clock takes new terms on a calendar.
        business_calendar = cache(partial(_business_calendar_id, case, rules.policy, settings))
        for target in rules.targets:
            kept = next((c for c in clocks if c.target_id == target.pk), None)
            if kept is None or renew_terms:
                extension = kept.extension if kept is not None else 0
                terms = terms_of(target, business_calendar, extension)
            else:
                terms = terms_kept(kept)
            spec = settings.spec(terms.calendar_id)
            runs = clock_runs(history, terms.rule, working_time(terms, spec))
            written += _write(case, target.pk, terms, runs, existing, spec)
    _keep_case_due(case, [*clocks, *written])
    return written


def _keep_case_due(case: Case, clocks: Iterable[SlaClock]) -> None:
    """Keep `Case.sla_due_at` the earliest due time of the running clocks (one statement, and
    only when it moves)."""
    due = min(
        (c.due_at for c in clocks if c.status == ClockStatus.RUNNING and c.due_at is not None),
        default=None,
    )
    if due != case.sla_due_at:
        Case.objects.filter(pk=case.pk).update(sla_due_at=due)
        case.sla_due_at = due


def sla_clocks_sync(*, case: Case) -> list[SlaClock]:
    """Start, pause, resume, meet or cancel the case's clocks as its history now says."""
    return _sync(case, renew_terms=False, settings=sla_settings())


def _digest(case_id: int) -> dict[tuple[int, int], tuple[object, ...]]:
    return {
        (c.target_id, c.cycle): (
            c.minutes,
            c.basis,
            c.calendar_id,
            c.due_at,
            c.status,
            c.is_provisional,
        )
        for c in SlaClock.objects.filter(case_id=case_id)
    }


def sla_clocks_recompute_case(*, case_id: int, dry_run: bool, renew_terms: bool = True) -> int:
    """Work one case's clocks out again: with its policy's current terms, or (`renew_terms`
    False) with the terms they have, on their calendar as it now stands (after its holidays
    changed). Returns how many clocks changed; a dry run computes the same and rolls it back.
    """

    class _DryRun(Exception):
        pass

    changed = 0
    try:
        with transaction.atomic():
            case = Case.objects.select_for_update(of=("self",)).select_related("team", "customer")
            locked = case.get(pk=case_id)
            before = _digest(case_id)
            _sync(locked, renew_terms=renew_terms, settings=sla_settings())
            after = _digest(case_id)
            changed = sum(1 for key, value in after.items() if before.get(key) != value)
            changed += sum(1 for key in before if key not in after)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return changed
