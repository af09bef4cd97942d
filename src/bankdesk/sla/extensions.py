"""Extending a statutory clock to its target's next, longer limit.

Regulators allow a complaint's deadline to be extended (mainland China: 15 days to 30, then
60) when the bank approves it and tells the complainant. The approval and the notice are the
complaints app's; this is the clock's side: one step at a time, only while the clock still
runs short of its deadline, worked out again on its calendar, audited.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from bankdesk.security.audit import audit_record
from bankdesk.sla.choices import ClockStatus
from bankdesk.sla.clocks import sla_clocks_sync
from bankdesk.sla.errors import ExtensionRefused
from bankdesk.sla.models import SlaClock
from bankdesk.tickets.models import Case


def clock_next_limit(clock: SlaClock) -> int | None:
    """The limit (minutes) the clock's next extension would give it; None when none is left."""
    steps = list(clock.target.extensions)
    return int(steps[clock.extension]) if clock.extension < len(steps) else None


def clock_extendable(clock: SlaClock) -> str:
    """Why the clock cannot be extended now ("" when it can)."""
    if clock_next_limit(clock) is None:
        return "no longer limit is left to extend to"
    if clock.status in {ClockStatus.MET, ClockStatus.CANCELLED}:
        return f"the clock is {clock.status}"
    if clock.due_at is not None and clock.due_at <= timezone.now():
        return "the deadline has passed"
    return ""


@transaction.atomic
def sla_clock_extend(*, clock: SlaClock, actor: Any, reason: str) -> SlaClock:
    """Give the clock its next limit (the caller holds the approval) and work its deadline out
    again. Refused, changing nothing, when `clock_extendable` says why not."""
    case = Case.objects.select_for_update().get(pk=clock.case_id)
    clock = SlaClock.objects.select_for_update().select_related("target").get(pk=clock.pk)
    why_not = clock_extendable(clock)
    if why_not:
        raise ExtensionRefused(f"{clock.name}: {why_not}", field="clock")
    limit = clock_next_limit(clock)
    assert limit is not None  # clock_extendable checked it
    clock.extension += 1
    clock.minutes = limit
    clock.save(update_fields=["extension", "minutes"])
    sla_clocks_sync(case=case)
    audit_record(
        actor=actor, action="sla.clock.extend", target=clock, fields=["minutes"], reason=reason
    )
    clock.refresh_from_db()
    return clock
