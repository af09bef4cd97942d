"""Assistant reads: intents for admins, the hand-off for the case screen, a web chat's turns,
and the figures that say how much of the service centre's load the assistant takes."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import get_language

from bankdesk.assistant.choices import (
    ENTITY_LABELS,
    Action,
    DialogueStatus,
    HandoffReason,
    Speaker,
    sentiment_label,
)
from bankdesk.assistant.models import (
    Dialogue,
    Intent,
    IntentExample,
    Turn,
    channel_message_key,
)
from bankdesk.customers.models import Customer
from bankdesk.staff.models import User
from bankdesk.tickets.access import cases_visible_to
from bankdesk.tickets.choices import EventKind
from bankdesk.tickets.models import Case, CaseEvent
from bankdesk.tickets.threads import thread_key


def case_handoff(case: Case) -> dict[str, Any] | None:
    """What the assistant understood before it handed this case's customer over (the latest
    hand-off), with its reason in words; None when the case did not come from it."""
    event = case.events.filter(kind=EventKind.ASSISTANT_HANDOFF).order_by("-id").first()
    if event is None:
        return None
    reason = str(event.data.get("reason", ""))
    label = HandoffReason(reason).label if reason in HandoffReason.values else ""
    code = str(event.data.get("intent") or "")
    intent = Intent.objects.filter(code=code).first() if code else None
    chinese = get_language().startswith("zh")
    entities = [
        {**entity, "kind_display": ENTITY_LABELS.get(str(entity.get("kind")), entity.get("kind"))}
        for entity in event.data.get("entities") or []
        if isinstance(entity, dict)
    ]
    confidence = event.data.get("confidence")
    return {
        **event.data,
        "reason_display": label,
        "intent_display": (intent.title_zh if chinese else intent.title_en) if intent else code,
        "confidence_percent": round(float(confidence) * 100) if confidence is not None else None,
        "sentiment_display": sentiment_label(float(event.data.get("sentiment") or 0.0)),
        "entities": entities,
    }


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


@dataclass(frozen=True)
class ChatAnswer:
    """A channel message the assistant took: the customer's turn and the answer, and the case
    the thread continues on when it handed the customer over."""

    turns: list[Turn]
    case: Case | None


def chat_answered(channel: str, thread_id: str, client_id: str) -> ChatAnswer | None:
    """What the assistant already answered to this message of a channel thread — the
    customer's turn, the answer, and the case when the dialogue was handed over — or None
    when it has not taken the message."""
    key = channel_message_key(channel, thread_key(channel, thread_id), client_id)
    if key is None:
        return None
    # Nearly every message is new: a look at the key's index alone says so, without building
    # the turn's dialogue and case that only a resend needs.
    earlier_id = Turn.objects.filter(channel_key=key).values_list("pk", flat=True).first()
    if earlier_id is None:
        return None
    earlier = Turn.objects.select_related("dialogue__case").get(pk=earlier_id)
    answer = (
        Turn.objects.filter(dialogue=earlier.dialogue_id, pk__gt=earlier.pk)
        .filter(speaker=Speaker.ASSISTANT)
        .order_by("pk")
        .first()
    )
    dialogue = earlier.dialogue
    handed = dialogue.case if dialogue.status == DialogueStatus.HANDED_OFF else None
    return ChatAnswer([t for t in (earlier, answer) if t is not None], handed)


def chat_turns(channel: str, thread_id: str, limit: int = 200) -> list[Turn]:
    """The latest `limit` turns of a channel thread's dialogues with the assistant, oldest
    first: what a web chat widget shows again after a reload."""
    turns = Turn.objects.filter(
        dialogue__channel=channel, dialogue__thread_id=thread_key(channel, thread_id)
    ).order_by("-id")[:limit]
    return sorted(turns, key=lambda turn: turn.pk)


UNANSWERED_SHOWN = 20
TOP_INTENTS = 10


def assistant_figures(since: date, until: date) -> dict[str, Any]:
    """How the assistant did between two days (inclusive, in the bank's time zone).

    `containment` is the share of dialogues it finished without a person; `unanswered` the
    latest questions it could not place (masked as stored), for the knowledge editors."""
    zone = timezone.get_current_timezone()
    start = datetime.combine(since, time.min, zone)
    end = datetime.combine(until + timedelta(days=1), time.min, zone)
    dialogues = Dialogue.objects.filter(created_at__gte=start, created_at__lt=end)
    started = dialogues.count()
    handed = dialogues.filter(status=DialogueStatus.HANDED_OFF).count()
    said = Turn.objects.filter(speaker=Speaker.CUSTOMER, created_at__gte=start, created_at__lt=end)
    actions = dict(said.values_list("action").annotate(n=Count("id")).order_by())
    top = (
        said.filter(action=Action.ANSWER)
        .values("intent")
        .annotate(n=Count("id"))
        .order_by("-n", "intent")[:TOP_INTENTS]
    )
    reasons = Counter(
        str(reason)
        for reason in CaseEvent.objects.filter(
            kind=EventKind.ASSISTANT_HANDOFF, created_at__gte=start, created_at__lt=end
        ).values_list("data__reason", flat=True)
        if reason
    )
    unanswered = said.filter(action=Action.FALLBACK).order_by("-id")[:UNANSWERED_SHOWN]
    return {
        "since": since,
        "until": until,
        "dialogues": started,
        "handed_off": handed,
        "containment": round((started - handed) / started, 4) if started else None,
        "messages": sum(actions.values()),
        "by_action": {action: actions.get(action, 0) for action in Action.values},
        "handoff_reasons": {reason: reasons.get(reason, 0) for reason in HandoffReason.values},
        "top_intents": [{"intent": row["intent"], "answered": row["n"]} for row in top],
        "unanswered": [{"text": turn.text, "at": turn.created_at} for turn in unanswered],
    }


CUSTOMER_DIALOGUES_SHOWN = 20


def customer_dialogues(user: User, customer: Customer) -> list[Dialogue]:
    """The customer's latest dialogues with the assistant, newest first, turns prefetched.

    A dialogue handed over to a case `user` may not see (a complaint, for an agent outside
    the complaints team) stays out, as that case does from the customer's timeline."""
    dialogues = (
        Dialogue.objects.filter(customer=customer)
        .filter(Q(case__isnull=True) | Q(case__in=cases_visible_to(user)))
        .select_related("case")
        .prefetch_related("turns")
        .order_by("-id")
    )
    return list(dialogues[:CUSTOMER_DIALOGUES_SHOWN])
