"""Assistant API: a customer's message answered; intents, examples and training for admins;
how the assistant does, for supervisors."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema, Status
from pydantic import Field, StringConstraints

from bankdesk.assistant.choices import ExampleSource
from bankdesk.assistant.models import LABEL_PATTERN, Dialogue, Intent
from bankdesk.assistant.selectors import (
    assistant_figures,
    customer_dialogues,
    intents_with_example_counts,
)
from bankdesk.assistant.services import TEXT_MAX, assistant_reply
from bankdesk.assistant.tasks import assistant_train_run
from bankdesk.assistant.training import examples_import, intent_create
from bankdesk.assistant.versions import VersionRow, model_versions_list
from bankdesk.customers.access import access_customer_by_id
from bankdesk.lib.api import Id, RequiredText, error_responses
from bankdesk.lib.channels import Channel
from bankdesk.lib.errors import InvalidInput, NotFound
from bankdesk.lib.languages import Language
from bankdesk.staff.auth import request_staff, require_perm
from bankdesk.tickets.lookups import category_by_id

router = Router(tags=["assistant"])
customer_router = Router(tags=["customers"])


class AssistantReplyIn(Schema):
    # Not trimmed or refused when blank: an empty or emoji-only message still gets an answer.
    text: str = Field(max_length=TEXT_MAX)
    conversation_id: uuid.UUID | None = None
    language: Language | None = None
    channel: Channel = Channel.APP
    customer_id: Id | None = None


class ChoiceOut(Schema):
    intent: str
    title: str


class EntityOut(Schema):
    kind: str
    text: str
    value: str
    currency: str | None = None


class AssistantReplyOut(Schema):
    conversation_id: str
    reply: str
    action: str = Field(description="answer | clarify | fallback | handoff | relay")
    intent: str
    confidence: float
    handoff: bool
    case_id: int | None
    case_number: str | None
    language: str
    choices: list[ChoiceOut]
    entities: list[EntityOut]
    sentiment: float
    anger: float
    model_version: int | None


@router.post(
    "/reply",
    response={200: AssistantReplyOut, **error_responses(404)},
    summary="The assistant's answer to a customer's message, or a hand-off to a person",
)
def reply(request: HttpRequest, payload: AssistantReplyIn) -> dict[str, Any]:
    user = request_staff(request)
    require_perm(user, "assistant.converse")
    customer = access_customer_by_id(user, payload.customer_id) if payload.customer_id else None
    answer = assistant_reply(
        text=payload.text,
        actor=user,
        conversation_id=payload.conversation_id,
        language=payload.language,
        channel=payload.channel,
        customer=customer,
    )
    return {
        "conversation_id": str(answer.dialogue.public_id),
        "reply": answer.text,
        "action": answer.action,
        "intent": answer.intent,
        "confidence": answer.confidence,
        "handoff": answer.handoff,
        "case_id": answer.case.pk if answer.case else None,
        "case_number": answer.case.number if answer.case else None,
        "language": answer.language,
        "choices": answer.choices,
        "entities": answer.entities,
        "sentiment": answer.sentiment,
        "anger": answer.anger,
        "model_version": answer.model_version,
    }


class IntentOut(Schema):
    code: str
    title_en: str
    title_zh: str
    category_id: int | None
    is_risk: bool
    is_active: bool
    examples: int


@router.get(
    "/intents",
    response={200: list[IntentOut], **error_responses()},
    summary="The intents the assistant knows, with how many examples teach each",
)
def intents(request: HttpRequest) -> list[dict[str, Any]]:
    require_perm(request_staff(request), "assistant.view_intent")
    return [_intent_out(intent, n) for intent, n in intents_with_example_counts()]


def _intent_out(intent: Intent, examples: int) -> dict[str, Any]:
    return {
        "code": intent.code,
        "title_en": intent.title_en,
        "title_zh": intent.title_zh,
        "category_id": intent.category_id,
        "is_risk": intent.is_risk,
        "is_active": intent.is_active,
        "examples": examples,
    }


class IntentIn(Schema):
    code: Annotated[str, StringConstraints(pattern=LABEL_PATTERN)]
    title_en: RequiredText(120)  # type: ignore[valid-type]
    title_zh: RequiredText(120)  # type: ignore[valid-type]
    category_id: Id | None = None
    is_risk: bool = False
    examples: list[RequiredText(500)] = Field(  # type: ignore[valid-type]
        default_factory=list, max_length=500
    )


@router.post(
    "/intents",
    response={201: IntentOut, **error_responses(404, 409)},
    summary="A new intent, with example sentences; the assistant knows it from the next training",
)
def intent_post(request: HttpRequest, payload: IntentIn) -> Status[dict[str, Any]]:
    user = request_staff(request)
    require_perm(user, "assistant.add_intent")
    intent = intent_create(
        code=payload.code,
        title_en=payload.title_en,
        title_zh=payload.title_zh,
        category=category_by_id(payload.category_id) if payload.category_id else None,
        is_risk=payload.is_risk,
        examples=payload.examples,
        actor=user,
    )
    return Status(201, _intent_out(intent, len(payload.examples)))


class ExamplesIn(Schema):
    texts: list[RequiredText(500)] = Field(min_length=1, max_length=500)  # type: ignore[valid-type]


class ExamplesOut(Schema):
    added: int
    already_there: int


@router.post(
    "/intents/{code}/examples",
    response={201: ExamplesOut, **error_responses(404)},
    summary="Teach an intent (or `oos`) more example sentences; used from the next training",
)
def examples_add(request: HttpRequest, code: str, payload: ExamplesIn) -> Status[dict[str, int]]:
    user = request_staff(request)
    require_perm(user, "assistant.add_intent")
    if code != "oos" and not Intent.objects.filter(code=code).exists():
        raise NotFound(f"intent {code} not found", field="code")
    result = examples_import(
        [(text, code) for text in payload.texts], source=ExampleSource.ADMIN, actor=user
    )
    return Status(201, {"added": result.added, "already_there": result.already_there})


class ModelOut(Schema):
    id: int
    status: str = Field(description="training | ready | failed")
    interrupted: bool = Field(
        description="failed because its worker stopped during training (see error)"
    )
    stored: bool = Field(description="its files are in the database: every node serves it")
    examples: int
    labels: int
    metrics: dict[str, float]
    seconds: float
    error: str
    note: str = Field(description="what an admin should know: where it can serve, its retry")
    worker: str = Field(description="host:pid of the worker that trained it")
    heartbeat_at: datetime | None = Field(description="last sign of life while it trained")
    retry_of: int | None = Field(description="the interrupted version this one trained again")
    retried_by: int | None
    created_at: str
    finished_at: str | None


def _model_out(version: VersionRow) -> dict[str, Any]:
    return {
        "id": version.id,
        "status": version.status,
        "interrupted": version.is_interrupted,
        "stored": version.is_stored,
        "examples": version.examples,
        "labels": version.labels,
        "metrics": version.metrics,
        "seconds": version.seconds,
        "error": version.error,
        "note": version.note,
        "worker": version.worker,
        "heartbeat_at": version.heartbeat_at,
        "retry_of": version.retry_of,
        "retried_by": version.retried_by,
        "created_at": version.created_at.isoformat(),
        "finished_at": version.finished_at.isoformat() if version.finished_at else None,
    }


@router.get(
    "/models",
    response={200: list[ModelOut], **error_responses()},
    summary="Trained versions, newest first, with their held-out figures; interrupted runs "
    "and versions not every node can serve say so",
)
def models(request: HttpRequest) -> list[dict[str, Any]]:
    require_perm(request_staff(request), "assistant.view_modelversion")
    return [_model_out(v) for v in model_versions_list(limit=50)]


class TrainOut(Schema):
    task_id: str


@router.post(
    "/models",
    response={202: TrainOut, **error_responses()},
    summary="Train a new version in the background; it serves as soon as it is ready",
)
def train(request: HttpRequest) -> Status[dict[str, str]]:
    user = request_staff(request)
    require_perm(user, "assistant.add_modelversion")
    result = assistant_train_run.enqueue(requested_by_id=user.pk)
    return Status(202, {"task_id": str(result.id)})


FIGURES_DAYS_MAX = 366
FIGURES_DAYS_DEFAULT = 30
Day = Annotated[date, Field(ge=date(2000, 1, 1), le=date(2200, 12, 31))]


class FiguresQuery(Schema):
    since: Day | None = None
    until: Day | None = None


class IntentCount(Schema):
    intent: str
    answered: int


class Unanswered(Schema):
    text: str
    at: datetime


class FiguresOut(Schema):
    since: date
    until: date
    dialogues: int
    handed_off: int
    containment: float | None
    messages: int
    by_action: dict[str, int]
    handoff_reasons: dict[str, int]
    top_intents: list[IntentCount]
    unanswered: list[Unanswered]


@router.get(
    "/figures",
    response={200: FiguresOut, **error_responses()},
    summary="How the assistant did: dialogues, share kept from people, hand-off reasons, "
    "top answers and what it could not answer (default: the last 30 days)",
)
def figures(request: HttpRequest, query: Query[FiguresQuery]) -> dict[str, Any]:
    require_perm(request_staff(request), "assistant.view_dialogue")
    until = query.until or timezone.localdate()
    since = query.since or until - timedelta(days=FIGURES_DAYS_DEFAULT - 1)
    if since > until:
        raise InvalidInput("since is after until", field="since")
    if (until - since).days >= FIGURES_DAYS_MAX:
        raise InvalidInput(f"at most {FIGURES_DAYS_MAX} days at a time", field="since")
    return assistant_figures(since, until)


class TurnOut(Schema):
    speaker: str
    text: str
    action: str
    intent: str
    at: datetime


class DialogueOut(Schema):
    conversation_id: uuid.UUID
    channel: str
    language: str
    status: str
    case_id: int | None
    case_number: str | None
    started_at: datetime
    turns: list[TurnOut]


def _dialogue_out(dialogue: Dialogue) -> dict[str, Any]:
    return {
        "conversation_id": dialogue.public_id,
        "channel": dialogue.channel,
        "language": dialogue.language,
        "status": dialogue.status,
        "case_id": dialogue.case_id,
        "case_number": dialogue.case.number if dialogue.case is not None else None,
        "started_at": dialogue.created_at,
        "turns": [
            {
                "speaker": turn.speaker,
                "text": turn.text,
                "action": turn.action,
                "intent": turn.intent,
                "at": turn.created_at,
            }
            for turn in dialogue.turns.all()
        ],
    }


@customer_router.get(
    "/{customer_id}/assistant",
    response={200: list[DialogueOut], **error_responses(404)},
    summary="The customer's latest 20 conversations with the assistant, newest first",
)
def customer_dialogues_get(request: HttpRequest, customer_id: Id) -> list[dict[str, Any]]:
    user = request_staff(request)
    customer = access_customer_by_id(user, customer_id, whole=False)
    return [_dialogue_out(dialogue) for dialogue in customer_dialogues(user, customer)]
