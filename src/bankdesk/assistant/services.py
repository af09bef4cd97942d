"""The assistant's one door: a customer's message in, the assistant's reply out.

`assistant_reply` understands the message (intent, entities, sentiment, risk), lets the
dialogue policy decide, and carries the decision out in one transaction: the turns are
stored masked, and a hand-off opens (or adds to) a case carrying the whole transcript and
what was understood, so the person who takes over never has to ask again.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from bankdesk.assistant.access import dialogue_reachable
from bankdesk.assistant.catalog import catalog
from bankdesk.assistant.choices import (
    OUT_OF_SCOPE,
    Action,
    DialogueStatus,
    HandoffReason,
    Speaker,
)
from bankdesk.assistant.engine import current_model
from bankdesk.assistant.entities import extract_entities
from bankdesk.assistant.models import Dialogue, Intent, Turn, channel_message_key
from bankdesk.assistant.nlu import Prediction
from bankdesk.assistant.policy import COMPLAINT_INTENT, Decision, decide
from bankdesk.assistant.selectors import ChatAnswer, chat_answered
from bankdesk.assistant.signals import Signals, read_signals
from bankdesk.customers.models import Customer
from bankdesk.lib.channels import Channel
from bankdesk.lib.chinese import script_language, to_traditional
from bankdesk.lib.errors import InvalidInput, NotFound
from bankdesk.lib.languages import Language
from bankdesk.lib.redaction import redact_personal_data
from bankdesk.lib.text import clean_text, is_unusable
from bankdesk.staff.models import User
from bankdesk.tickets.choices import CaseStatus, Direction, Priority
from bankdesk.tickets.models import Case, Category
from bankdesk.tickets.selectors import category_get
from bankdesk.tickets.services import (
    case_complaint_mark,
    case_create,
    case_handoff_record,
    case_message_add,
    case_status_change,
)
from bankdesk.tickets.threads import thread_key

TEXT_MAX = 20_000
# What the classifier reads: the opening of a long message says what it is about.
CLASSIFY_CHARS = 1_000
SUBJECT_CHARS = 60
#: A channel thread's dialogue with the assistant ends after this long without a message.
THREAD_DIALOGUE_IDLE = timedelta(minutes=30)
#: External id prefix of the transcript message a hand-off opens a case with.
TRANSCRIPT_PREFIX = "assistant:"
NO_PREDICTION = Prediction(ranked=(), out_of_scope=True, oos_score=1.0, language="en")


@dataclass(frozen=True)
class Reply:
    dialogue: Dialogue
    text: str
    action: str
    intent: str
    confidence: float
    case: Case | None
    choices: list[dict[str, str]] = field(default_factory=list)
    entities: list[dict[str, str]] = field(default_factory=list)
    sentiment: float = 0.0
    anger: float = 0.0
    language: str = Language.ZH_HANS
    model_version: int | None = None
    # The customer's turn and the assistant's answer, as stored.
    turns: tuple[Turn, ...] = ()

    @property
    def handoff(self) -> bool:
        return self.action in {Action.HANDOFF, Action.RELAY}


def _check_text(text: str) -> str:
    if not isinstance(text, str):
        raise InvalidInput("text must be a string", field="text")
    if is_unusable(text):
        raise InvalidInput("text contains control characters", field="text")
    if len(text) > TEXT_MAX:
        raise InvalidInput(f"text is at most {TEXT_MAX} characters", field="text")
    return clean_text(text)


def _dialogue(
    conversation_id: uuid.UUID | None,
    *,
    channel: str,
    language: str,
    customer: Customer | None,
    actor: User | None,
    thread_id: str,
) -> Dialogue:
    # A WeChat thread is the customer's openid: kept as its blind index (tickets.threads).
    thread_id = thread_key(channel, thread_id)
    dialogue: Dialogue | None = None
    if conversation_id is not None:
        dialogue = (
            Dialogue.objects.select_for_update(of=("self",))
            .select_related("case")
            .filter(public_id=conversation_id)
            .first()
        )
        # Checked under the dialogue's lock, so a hand-off racing this message cannot carry it
        # into a case its sender may not see.
        if dialogue is None or (actor is not None and not dialogue_reachable(actor, dialogue)):
            raise NotFound("no such conversation", field="conversation_id")
    elif thread_id:
        # The thread's dialogue with the assistant, while it lasts: one handed to a person, or
        # left for a while, is over, and the customer's next message starts a new one.
        dialogue = (
            Dialogue.objects.select_for_update()
            .filter(
                channel=channel,
                thread_id=thread_id,
                status=DialogueStatus.ASSISTANT,
                updated_at__gte=timezone.now() - THREAD_DIALOGUE_IDLE,
            )
            .order_by("-id")
            .first()
        )
    if dialogue is None:  # a new one is saved with the turns, in one statement each
        return Dialogue(
            channel=channel,
            language=language,
            customer=customer,
            started_by=actor,
            thread_id=thread_id,
        )
    if customer is not None and dialogue.customer_id not in (None, customer.pk):
        raise InvalidInput("the conversation belongs to another customer", field="customer_id")
    return dialogue


def _title(intent: Intent | None, code: str, language: str) -> str:
    if intent is None:
        return code
    title = intent.title(language)
    return to_traditional(title) if language == Language.ZH_HANT else title


def _transcript(dialogue: Dialogue, language: str) -> str:
    with translation.override(language):
        names: dict[str, str] = {
            Speaker.CUSTOMER: _("Customer"),
            Speaker.ASSISTANT: _("Assistant"),
        }
        lines = [f"{names[turn.speaker]}: {turn.text}" for turn in dialogue.turns.all()]
        header = _("Conversation with the assistant before the hand-over:")
    return "\n".join([header, *lines])


def _summary(
    dialogue: Dialogue, decision: Decision, signals: Signals, confidence: float
) -> dict[str, Any]:
    turns = list(dialogue.turns.filter(speaker=Speaker.CUSTOMER))
    entities: list[dict[str, str]] = []
    for turn in turns:
        entities.extend(e for e in turn.entities if e not in entities)
    intents = [t.intent for t in turns if t.intent]
    return {
        "conversation_id": str(dialogue.public_id),
        "reason": decision.reason,
        "intent": decision.intent or (intents[-1] if intents else ""),
        "confidence": round(confidence, 4),
        "entities": entities,
        "sentiment": min((t.sentiment for t in turns if t.sentiment is not None), default=0.0),
        "anger": max((t.anger for t in turns if t.anger is not None), default=0.0),
        "regulator": signals.regulator,
    }


def _routing_category(intent: Intent | None) -> Category | None:
    """The case category the intent routes to, read afresh (the catalogue's intents may be
    a couple of seconds old, and a retired category opens no case)."""
    if intent is None or intent.category_id is None:
        return None
    category = category_get(category_id=intent.category_id)
    return category if category is not None and category.is_active else None


def _hand_off(
    dialogue: Dialogue,
    decision: Decision,
    signals: Signals,
    intent: Intent | None,
    customer_text: str,
) -> Case:
    """Open a case with the transcript, or add to the dialogue's open case."""
    case = dialogue.case
    if case is not None and case.status != CaseStatus.CLOSED:
        _add_to_case(case, dialogue, customer_text)
        if decision.complaint and not case.is_complaint:
            case = case_complaint_mark(case=case, actor=dialogue.started_by, on="assistant")
    else:
        first = next(
            (t.text for t in dialogue.turns.all() if t.speaker == Speaker.CUSTOMER and t.text),
            customer_text,
        )
        subject = " ".join(first.split())[:SUBJECT_CHARS].strip() or _title(
            intent, decision.intent, dialogue.language
        )
        tags = ["assistant"]
        if decision.reason:  # none when a relayed message finds its case closed
            tags.append(f"handoff-{decision.reason.replace('_', '-')}")
        if signals.regulator:
            tags.append("regulator-risk")
        case = case_create(
            subject=subject or "—",
            channel=dialogue.channel,
            # A channel thread's case continues the thread (a web chat session, a WeChat
            # openid): the customer's next messages and the staff's replies travel on it. The
            # transcript is marked as the assistant's: a web chat widget, which showed the
            # conversation as it happened, does not repeat it.
            external_thread_id=dialogue.thread_id,
            external_id=f"{TRANSCRIPT_PREFIX}{uuid.uuid4().hex}" if dialogue.thread_id else None,
            # Through the API the case is opened by whoever started the dialogue (staff, or an
            # integration acting for the customer), who therefore keeps it in scope.
            actor=dialogue.started_by,
            customer=dialogue.customer,
            category=_routing_category(intent),
            priority=Priority.HIGH if decision.urgent else Priority.NORMAL,
            language=dialogue.language,
            text=_transcript(dialogue, dialogue.language),
            tags=tags,
            route=True,
            is_complaint=decision.complaint,
            complaint_on="assistant",
        )
    case_handoff_record(
        case=case, summary=_summary(dialogue, decision, signals, decision.confidence)
    )
    return case


def _reply_text(
    decision: Decision, language: str, intents: dict[str, Intent], case: Case | None
) -> str:
    with translation.override(language):
        if decision.action == Action.ANSWER:
            entry = catalog().answer(decision.intent, language)
            return entry.body if entry is not None else ""
        if decision.action == Action.CLARIFY:
            first, second = (_title(intents.get(c), c, language) for c in decision.choices)
            return _("Do you mean 1) %(first)s or 2) %(second)s? Reply 1 or 2.") % {
                "first": first,
                "second": second,
            }
        if decision.action == Action.FALLBACK:
            return _(
                "Sorry, I can only help with questions about your accounts, cards and payments. "
                "Could you put it another way? To talk to a person, type “agent”."
            )
        number = case.number if case is not None else ""
        if decision.action == Action.RELAY:
            return _("Your message has been passed to the colleague handling case %(number)s.") % {
                "number": number
            }
        passing: str = _(
            "I am passing you to a colleague, who can see our conversation so far. "
            "Your case number is %(number)s."
        ) % {"number": number}
        if decision.reason == HandoffReason.RISK_INTENT:
            # A lost or compromised card: what to do this minute, then the person.
            entry = catalog().answer(decision.intent, language)
            if entry is not None:
                return f"{entry.body}\n\n{passing}"
        return passing


@dataclass(frozen=True)
class _Understanding:
    prediction: Prediction
    entities: list[dict[str, str]]
    signals: Signals
    model_version: int | None


def _understand(text: str) -> _Understanding:
    """Everything read from the message itself: no database writes, so it runs before the
    transaction and replies do not queue behind each other's model time."""
    serving = current_model()
    prediction = serving[1].predict(text[:CLASSIFY_CHARS]) if serving and text else NO_PREDICTION
    return _Understanding(
        prediction=prediction,
        entities=[e.as_dict() for e in extract_entities(text, today=timezone.localdate())],
        signals=read_signals(text),
        model_version=serving[0] if serving else None,
    )


def assistant_reply(
    *,
    text: str,
    actor: User | None,
    conversation_id: uuid.UUID | None = None,
    language: str | None = None,
    channel: str = Channel.APP,
    customer: Customer | None = None,
    thread_id: str = "",
    client_id: str = "",
) -> Reply:
    """Answer one customer message. Never fails on what a customer can type: empty,
    emoji-only, very long or mixed-language text gets an answer, a question or a person.

    A channel names its thread instead of a conversation id (`thread_id`: a web chat
    session, a WeChat openid), and its id for the message (`client_id`), kept with the
    customer's turn."""
    text = _check_text(text)
    if language is not None and language not in Language.values:
        raise InvalidInput("unknown language", field="language")
    if channel not in Channel.values:
        raise InvalidInput("unknown channel", field="channel")
    return _respond(
        text=text,
        understood=_understand(text),
        actor=actor,
        conversation_id=conversation_id,
        language=language,
        channel=channel,
        customer=customer,
        thread_id=thread_id,
        client_id=client_id,
    )


def chat_reply(
    *,
    channel: str,
    thread_id: str,
    client_id: str,
    text: str,
    customer: Callable[[], Customer | None],
    with_a_person: bool = False,
) -> ChatAnswer | None:
    """A message on a channel thread for the assistant: the turns to show (the customer's
    and the answer) and, after a hand-off, the case the thread now continues on. None when
    the message is for people: a person has the thread, or no model is in service.

    The same `client_id` again — a browser's resend after a dropped connection, WeChat's
    retry — gets the turns stored the first time, even once a person has the thread, and
    nothing is understood or stored twice. `customer` is asked for only when the assistant
    reads the message."""
    stored = chat_answered(channel, thread_id, client_id)
    if stored is not None:
        return stored
    if with_a_person or current_model() is None:
        return None
    try:
        reply = assistant_reply(
            text=text,
            actor=None,
            channel=channel,
            customer=customer(),
            thread_id=thread_id,
            client_id=client_id,
        )
    except IntegrityError:
        # The same message arrived twice at once (WeChat retries after five seconds, a browser
        # resends on reconnect) and the other copy was answered first: its answer is this one's.
        stored = chat_answered(channel, thread_id, client_id)
        if stored is None:
            raise
        return stored
    return ChatAnswer(list(reply.turns), reply.case if reply.handoff else None)


@transaction.atomic
def _respond(
    *,
    text: str,
    understood: _Understanding,
    actor: User | None,
    conversation_id: uuid.UUID | None,
    language: str | None,
    channel: str,
    customer: Customer | None,
    thread_id: str,
    client_id: str,
) -> Reply:
    masked = redact_personal_data(text)
    detected = script_language(text, default="")
    dialogue = _dialogue(
        conversation_id,
        channel=channel,
        language=language or detected or Language.ZH_HANS,
        customer=customer,
        actor=actor,
        thread_id=thread_id,
    )
    if language is None and detected and detected != dialogue.language:
        dialogue.language = detected  # the customer switched language: answer in theirs
    language = language or dialogue.language
    dialogue.language = language
    prediction, signals = understood.prediction, understood.signals
    known = catalog()
    intents = known.intents
    top, confidence = prediction.ranked[0] if prediction.ranked else ("", 0.0)
    customer_turn = Turn(
        speaker=Speaker.CUSTOMER,
        text=masked,
        intent="" if prediction.out_of_scope else top,
        confidence=round(confidence, 4),
        entities=understood.entities,
        sentiment=signals.sentiment,
        anger=signals.anger,
        client_id=client_id,
        channel_key=channel_message_key(channel, dialogue.thread_id, client_id),
    )
    if dialogue.status == DialogueStatus.HANDED_OFF and dialogue.case is not None:
        # Passed on to the person; a complaint said now still makes the case one.
        complaint = signals.is_complaint or customer_turn.intent == COMPLAINT_INTENT
        decision = Decision(Action.RELAY, customer_turn.intent, confidence, complaint=complaint)
    else:
        decision = decide(
            text=text,
            prediction=prediction,
            signals=signals,
            risk_intents=known.risk,
            answerable=known.answerable,
            pending=list(dialogue.pending_choices),
            misses=dialogue.misses,
        )
    customer_turn.action = decision.action
    case = dialogue.case
    if decision.action in {Action.RELAY, Action.HANDOFF}:
        # The case's transcript is read from the stored turns: store this one first.
        dialogue.save()
        customer_turn.dialogue = dialogue
        customer_turn.save()
        if decision.action == Action.RELAY:
            case = _relay(dialogue, decision, signals, intents, masked or "…")
        else:
            intent = intents.get(decision.intent)
            case = _hand_off(dialogue, decision, signals, intent, masked or "…")
            dialogue.status, dialogue.case = DialogueStatus.HANDED_OFF, case
    reply = _reply_text(decision, language, intents, case)
    assistant_turn = Turn(
        speaker=Speaker.ASSISTANT,
        text=reply,
        action=decision.action,
        intent=decision.intent,
        confidence=round(decision.confidence, 4),
    )
    dialogue.pending_choices = list(decision.choices)
    dialogue.misses = dialogue.misses + 1 if decision.action == Action.FALLBACK else 0
    dialogue.updated_at = timezone.now()
    dialogue.save()
    customer_turn.dialogue = assistant_turn.dialogue = dialogue
    Turn.objects.bulk_create([t for t in (customer_turn, assistant_turn) if t.pk is None])
    return Reply(
        dialogue=dialogue,
        text=reply,
        action=decision.action,
        intent=decision.intent if decision.intent != OUT_OF_SCOPE else "",
        confidence=round(decision.confidence, 4),
        case=case,
        choices=[
            {"intent": c, "title": _title(intents.get(c), c, language)} for c in decision.choices
        ],
        entities=understood.entities,
        sentiment=signals.sentiment,
        anger=signals.anger,
        language=language,
        model_version=understood.model_version,
        turns=(customer_turn, assistant_turn),
    )


def _relay(
    dialogue: Dialogue,
    decision: Decision,
    signals: Signals,
    intents: dict[str, Intent],
    customer_text: str,
) -> Case:
    """After a hand-off the customer's messages go to the case; a closed case is over, so a
    new matter opens a new case."""
    case = dialogue.case
    assert case is not None
    if case.status == CaseStatus.CLOSED:
        return _hand_off(dialogue, decision, signals, intents.get(decision.intent), customer_text)
    _add_to_case(case, dialogue, customer_text)
    if decision.complaint and not case.is_complaint:
        case = case_complaint_mark(case=case, actor=dialogue.started_by, on="assistant")
    return case


def _add_to_case(case: Case, dialogue: Dialogue, customer_text: str) -> None:
    """The customer's message onto their open case; a resolved case is reopened, as when
    they write on any other channel."""
    if case.status == CaseStatus.RESOLVED:
        case_status_change(
            case=case, status=CaseStatus.OPEN, actor=None, reason="the customer wrote again"
        )
    # The customer's words, never anyone else's: through the API only the dialogue's own
    # caller reaches it (assistant.access), and the hand-off event names the dialogue.
    case_message_add(
        case=case,
        direction=Direction.INBOUND,
        text=customer_text,
        channel=dialogue.channel,
        actor=None,
    )
