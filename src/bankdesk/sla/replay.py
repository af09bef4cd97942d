"""SLA clocks worked out from what happened on a case: pure, free of Django and the database.

A clock is never a counter someone forgot to stop. Every clock of a case is recomputed from the
case's history (its status changes and who wrote when) and the clock's rule, so its state,
its pauses, what it has consumed and when it falls due can always be explained, and a recompute
after a policy change gives the same answer as having had that policy from the start.

The rules the bank relies on:
- First response starts when the case opens; the first reply from staff meets it, and so does
  resolving the case.
- Next response starts at each customer message that arrives after the first response was met
  while no next-response clock is open; the next staff reply (or resolving) meets it. Each
  such clock is a cycle: 1, 2, 3…
- Resolution starts when the case opens and is met when it is resolved. Reopening takes it up
  again; the time it spent resolved is a pause, so it is not counted against the bank.
- While the case is in one of the clock's pausing statuses the clock does not run.
- Decision (a complaint's statutory deadline) starts when the case opens and is met by the
  first decision given to the customer, or by resolving the case, whichever comes first; a
  later objection or reopening does not start it again. Resolving does not pause it.
- Closing a case that was never resolved (a merge) cancels its unmet clocks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

RESOLVED, CLOSED = "resolved", "closed"
FIRST_RESPONSE, NEXT_RESPONSE, RESOLUTION = "first_response", "next_response", "resolution"
DECISION = "decision"
RUNNING, PAUSED, MET, CANCELLED = "running", "paused", "met", "cancelled"

_NOTHING = timedelta(0)


class WorkingTime(Protocol):
    """What the replay needs of a calendar (BusinessCalendarSpec provides it)."""

    def add_business_time(self, start: datetime, amount: timedelta) -> datetime: ...

    def business_time_between(self, start: datetime, end: datetime) -> timedelta: ...


@dataclass(frozen=True)
class StatusChange:
    at: datetime
    status: str


@dataclass(frozen=True)
class Contact:
    """A message on the case: from the customer, or a reply written by staff."""

    at: datetime
    is_from_customer: bool


@dataclass(frozen=True)
class CaseHistory:
    opened_at: datetime
    status_changes: tuple[StatusChange, ...]  # in order, after the case opened
    contacts: tuple[Contact, ...]  # in order
    decisions: tuple[datetime, ...] = ()  # a complaint's decisions given, in order


@dataclass(frozen=True)
class ClockRule:
    metric: str
    target: timedelta
    pause_statuses: frozenset[str]
    warning_percent: int | None = None  # warn when this share of the target is consumed


@dataclass(frozen=True)
class Pause:
    started_at: datetime
    ended_at: datetime | None
    status: str


@dataclass(frozen=True)
class ClockRun:
    """One clock as the history leaves it."""

    cycle: int
    started_at: datetime
    status: str  # running, paused, met or cancelled
    pauses: tuple[Pause, ...]
    consumed: timedelta  # working time used, up to the last resume, pause, met or cancel
    due_at: datetime | None  # None while paused: the clock does not move
    warn_at: datetime | None
    met_at: datetime | None = None
    stopped_at: datetime | None = None


@dataclass(frozen=True)
class _Window:
    """One clock's life: from its start until it is met or cancelled (or still open)."""

    cycle: int
    started_at: datetime
    ended_at: datetime | None
    end_status: str | None  # met or cancelled when ended


def clock_runs(history: CaseHistory, rule: ClockRule, calendar: WorkingTime) -> list[ClockRun]:
    """Every clock the rule gives this case, in order of cycle."""
    return [_run(window, history, rule, calendar) for window in _windows(history, rule.metric)]


def _status_at_each_change(history: CaseHistory) -> list[tuple[datetime, str, str]]:
    """(moment, previous status, new status) for each change."""
    out = []
    previous = "new"
    for change in history.status_changes:
        out.append((change.at, previous, change.status))
        previous = change.status
    return out


def _first(moments: Sequence[datetime | None]) -> datetime | None:
    found = [moment for moment in moments if moment is not None]
    return min(found) if found else None


def _windows(history: CaseHistory, metric: str) -> list[_Window]:
    changes = _status_at_each_change(history)
    resolved_moments = [at for at, _, status in changes if status == RESOLVED]
    cancelled_at = next(
        (at for at, previous, status in changes if status == CLOSED and previous != RESOLVED), None
    )
    staff_replies = [c.at for c in history.contacts if not c.is_from_customer]

    def ending(start: datetime) -> tuple[datetime | None, str | None]:
        met = _first(
            [
                next((at for at in staff_replies if at >= start), None),
                next((at for at in resolved_moments if at >= start), None),
            ]
        )
        if cancelled_at is not None and (met is None or cancelled_at < met):
            return cancelled_at, CANCELLED
        return (met, MET) if met is not None else (None, None)

    if metric == FIRST_RESPONSE:
        end, how = ending(history.opened_at)
        return [_Window(0, history.opened_at, end, how)]
    if metric == RESOLUTION:
        return [_resolution_window(history, changes, cancelled_at)]
    if metric == DECISION:
        start = history.opened_at
        met = _first(
            [
                next((at for at in history.decisions if at >= start), None),
                next((at for at in resolved_moments if at >= start), None),
            ]
        )
        if cancelled_at is not None and (met is None or cancelled_at < met):
            return [_Window(0, start, cancelled_at, CANCELLED)]
        return [_Window(0, start, met, MET if met is not None else None)]
    if metric != NEXT_RESPONSE:
        raise ValueError(f"unknown metric {metric}")
    first_end, first_how = ending(history.opened_at)
    if first_how != MET or first_end is None:
        return []
    windows: list[_Window] = []
    open_until: datetime | None = first_end
    for contact in history.contacts:
        if not contact.is_from_customer or contact.at <= first_end:
            continue
        if open_until is None and windows:  # the previous cycle is still open
            continue
        if open_until is not None and contact.at < open_until:
            continue
        if _status_before(changes, contact.at) in {RESOLVED, CLOSED}:
            continue
        end, how = ending(contact.at)
        windows.append(_Window(len(windows) + 1, contact.at, end, how))
        if how == CANCELLED:
            break
        open_until = end
    return windows


def _resolution_window(
    history: CaseHistory, changes: list[tuple[datetime, str, str]], cancelled_at: datetime | None
) -> _Window:
    current = changes[-1][2] if changes else "new"
    if current in {RESOLVED, CLOSED} and cancelled_at is None:
        resolved_at = max(at for at, _, status in changes if status == RESOLVED)
        return _Window(0, history.opened_at, resolved_at, MET)
    if cancelled_at is not None:
        return _Window(0, history.opened_at, cancelled_at, CANCELLED)
    return _Window(0, history.opened_at, None, None)


def _status_before(changes: list[tuple[datetime, str, str]], moment: datetime) -> str:
    status = "new"
    for at, _, new in changes:
        if at > moment:
            break
        status = new
    return status


def _pauses(
    window: _Window, history: CaseHistory, rule: ClockRule
) -> tuple[list[Pause], datetime | None]:
    """The pauses inside the window, and the start of the last running stretch (None when the
    window ends, or is still, paused)."""
    pausing = set(rule.pause_statuses)
    if rule.metric == RESOLUTION:
        pausing.add(RESOLVED)
    pauses: list[Pause] = []
    status = _status_before(_status_at_each_change(history), window.started_at)
    paused_since = window.started_at if status in pausing else None
    running_since = None if paused_since else window.started_at
    for change in history.status_changes:
        if change.at <= window.started_at:
            continue
        if window.ended_at is not None and change.at >= window.ended_at:
            break
        now_pausing = change.status in pausing
        if paused_since is None and now_pausing:
            paused_since, running_since, status = change.at, None, change.status
        elif paused_since is not None and not now_pausing:
            pauses.append(Pause(paused_since, change.at, status))
            paused_since, running_since = None, change.at
        elif paused_since is not None:
            # From one pausing status to another: close one ledger line, open the next.
            pauses.append(Pause(paused_since, change.at, status))
            paused_since, status = change.at, change.status
    if paused_since is not None:
        # A clock met or cancelled while paused closes its last pause there.
        pauses.append(Pause(paused_since, window.ended_at, status))
    return pauses, running_since


def _run(window: _Window, history: CaseHistory, rule: ClockRule, calendar: WorkingTime) -> ClockRun:
    pauses, running_since = _pauses(window, history, rule)
    # Running stretches: from the start, between pauses, and after the last pause.
    stretches: list[tuple[datetime, datetime | None]] = []
    cursor: datetime | None = window.started_at
    for pause in pauses:
        if cursor is not None and pause.started_at > cursor:
            stretches.append((cursor, pause.started_at))
        cursor = pause.ended_at
    if running_since is not None:
        # Open-ended: where the clock goes on running, or would have, had it not been met.
        stretches.append((running_since, None))

    closed_stretches = stretches[:-1] if running_since is not None else stretches
    consumed = sum(
        (calendar.business_time_between(a, b) for a, b in closed_stretches if b is not None),
        _NOTHING,
    )
    if window.ended_at is not None and running_since is not None:
        final = calendar.business_time_between(running_since, window.ended_at)
        ended_consumed = consumed + final
    else:
        ended_consumed = consumed

    def moment_at(amount: timedelta) -> datetime | None:
        used = _NOTHING
        for start, end in stretches:
            if end is None:
                return calendar.add_business_time(start, amount - used)
            length = calendar.business_time_between(start, end)
            if used + length >= amount:
                return calendar.add_business_time(start, amount - used)
            used += length
        return None

    # None when the clock stopped moving (paused, or met while paused) short of the amount.
    due_at = moment_at(rule.target)
    warn_at = moment_at(rule.target * rule.warning_percent // 100) if rule.warning_percent else None

    if window.end_status is not None:
        status = window.end_status
        consumed = ended_consumed
    elif running_since is None:
        status = PAUSED
    else:
        status = RUNNING
    return ClockRun(
        cycle=window.cycle,
        started_at=window.started_at,
        status=status,
        pauses=tuple(pauses),
        consumed=consumed,
        due_at=due_at,
        warn_at=warn_at,
        met_at=window.ended_at if status == MET else None,
        stopped_at=window.ended_at if status == CANCELLED else None,
    )
