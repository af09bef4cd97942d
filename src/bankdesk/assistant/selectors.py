"""Assistant reads: intents for admins, the hand-off for the case screen, a web chat's turns."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, OuterRef, Subquery

from bankdesk.assistant.choices import HandoffReason
from bankdesk.assistant.models import Intent, IntentExample, Turn
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


def intents_with_example_counts() -> list[tuple[Intent, int]]:
    """Every intent by code, with how many sentences teach it (one query)."""
    counts = (
        IntentExample.objects.filter(label=OuterRef("code"))
        .values("label")
        .annotate(n=Count("id"))
        .values("n")
    )
    rows = Intent.objects.annotate(examples=Subquery(counts)).order_by("code")
    return [(intent, intent.examples or 0) for intent in rows]


def chat_turns(chat_session: str, limit: int = 200) -> list[Turn]:
    """The latest `limit` turns of a web chat session's dialogues with the assistant, oldest
    first: what the widget shows again after a reload."""
    turns = Turn.objects.filter(dialogue__chat_session=chat_session).order_by("-id")[:limit]
    return sorted(turns, key=lambda turn: turn.pk)
