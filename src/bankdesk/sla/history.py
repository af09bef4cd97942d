"""A case's history as the SLA replay needs it, read from its append-only events."""

from __future__ import annotations

from datetime import datetime

from bankdesk.sla.replay import CaseHistory, Contact, StatusChange
from bankdesk.tickets.choices import COMPLAINT_DECISION_STEP, Direction, EventKind
from bankdesk.tickets.models import Case, CaseEvent

_KINDS = (
    EventKind.STATUS_CHANGED,
    EventKind.MERGED_INTO,
    EventKind.MESSAGE_ADDED,
    EventKind.COMPLAINT_STEP,
)


def case_history(case: Case) -> CaseHistory:
    """Status changes and contacts, in the order they happened (one indexed query).

    A reply counts as the bank's answer only when a person wrote it (the event has an actor);
    automatic acknowledgements do not stop a response clock.
    """
    changes: list[StatusChange] = []
    contacts: list[Contact] = []
    decisions: list[datetime] = []
    rows = (
        CaseEvent.objects.filter(case_id=case.pk, kind__in=_KINDS)
        .order_by("id")
        .values_list("kind", "actor_id", "data", "created_at")
    )
    for kind, actor_id, data, created_at in rows:
        if kind == EventKind.MESSAGE_ADDED:
            direction = data.get("direction")
            if direction == Direction.INBOUND:
                contacts.append(Contact(created_at, is_from_customer=True))
            elif direction == Direction.OUTBOUND and actor_id is not None:
                contacts.append(Contact(created_at, is_from_customer=False))
        elif kind == EventKind.COMPLAINT_STEP:
            if data.get("step") == COMPLAINT_DECISION_STEP:
                decisions.append(created_at)
        elif "to" in data:
            changes.append(StatusChange(created_at, data["to"]))
    return CaseHistory(
        opened_at=case.created_at,
        status_changes=tuple(changes),
        contacts=tuple(contacts),
        decisions=tuple(decisions),
    )
