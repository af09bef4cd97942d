"""Assistant reads for other apps' screens."""

from __future__ import annotations

from typing import Any

from bankdesk.assistant.choices import HandoffReason
from bankdesk.tickets.choices import EventKind
from bankdesk.tickets.models import Case


def case_handoff(case: Case) -> dict[str, Any] | None:
    """What the assistant understood before it handed this case's customer over (the latest
    hand-off), with its reason in words; None when the case did not come from it."""
    event = case.events.filter(kind=EventKind.ASSISTANT_HANDOFF).order_by("-id").first()
    if event is None:
        return None
    reason = str(event.data.get("reason", ""))
    label = HandoffReason(reason).label if reason in HandoffReason.values else ""
    return {**event.data, "reason_display": label}
