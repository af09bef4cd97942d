"""The database side of a chat session: its endpoint, its customer, its case, its messages.

Everything here is synchronous ORM work the consumer runs through `database_sync_to_async`.
A message's `seq` in the protocol is its database id: increasing, shared by both directions,
and enough for a browser to put messages in order and ask for what it missed.

Where the endpoint offers the assistant, a session starts with it: the customer's messages and
its answers are the dialogue's turns (`turn` in the protocol, the turn's id), until it hands
the session to a person. From then on the session is a case's conversation, as any chat
without the assistant, and never goes back: so every turn of a session comes before its
first `seq`, and a browser orders turns first, then messages.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from bankdesk.assistant.choices import Speaker
from bankdesk.assistant.engine import current_model
from bankdesk.assistant.models import Turn
from bankdesk.assistant.selectors import chat_turns
from bankdesk.assistant.services import TRANSCRIPT_PREFIX, chat_reply
from bankdesk.customers.models import Customer
from bankdesk.intake.channels.base import InboundMessage
from bankdesk.intake.channels.webchat.tokens import InvalidCustomerToken, customer_token_verify
from bankdesk.intake.choices import OutboxStatus
from bankdesk.intake.models import ChannelEndpoint, OutboxMessage
from bankdesk.intake.services import inbound_receive
from bankdesk.intake.signals import chat_rated
from bankdesk.lib.channels import Channel
from bankdesk.security.ratelimit import Limit, rate_limit_hit
from bankdesk.tickets.choices import Direction
from bankdesk.tickets.models import Message
from bankdesk.tickets.selectors import thread_case

logger = logging.getLogger(__name__)

REPLAY_MAX = 200


@dataclass(frozen=True)
class ChatEndpoint:
    """What a connection needs to know about the web chat endpoint it came through."""

    endpoint_id: int | None
    origins: tuple[str, ...]
    token_secret: str
    # The assistant answers first (when a model is in service); off with settings "assistant".
    assistant: bool = True


@dataclass(frozen=True)
class Received:
    case_id: int
    message_id: int


@dataclass(frozen=True)
class Opened:
    """What a connection's hello needs from the database, read in one call."""

    customer_id: int | None
    # A customer token was given and did not name a customer: the chat goes on as a guest's.
    is_token_refused: bool
    case_id: int | None
    # The assistant answers this session's messages (nobody has taken it over yet).
    assistant: bool
    turns: list[dict[str, Any]]
    messages: list[dict[str, Any]]


@dataclass(frozen=True)
class Answered:
    """A message the assistant took: the customer's turn, the frames to send after its
    acknowledgement, and the case when the assistant handed the session to a person."""

    turn_id: int
    frames: list[dict[str, Any]]
    case_id: int | None


def chat_endpoint_get(code: str = "") -> ChatEndpoint | None:
    """The active web chat endpoint by code, or the first one; without any, same-origin only
    and no signed-in customers. None when a code was asked for and does not exist."""
    endpoints = ChannelEndpoint.objects.filter(channel=Channel.WEB_CHAT, is_active=True)
    endpoint = (endpoints.filter(code=code) if code else endpoints).order_by("id").first()
    if endpoint is None:
        return None if code else ChatEndpoint(endpoint_id=None, origins=(), token_secret="")
    options = endpoint.settings if isinstance(endpoint.settings, dict) else {}
    origins = options.get("origins")
    try:
        secrets_data: Any = json.loads(endpoint.secrets or "{}")
    except ValueError:
        logger.warning("web chat endpoint %s has unreadable secrets", endpoint.code)
        secrets_data = {}
    secret = secrets_data.get("customer_token_secret") if isinstance(secrets_data, dict) else ""
    return ChatEndpoint(
        endpoint_id=endpoint.pk,
        origins=tuple(o.rstrip("/") for o in origins or () if isinstance(o, str)),
        token_secret=secret if isinstance(secret, str) else "",
        assistant=options.get("assistant", True) is not False,
    )


def _limit(name: str) -> Limit:
    # Read at each use, not cached: a few characters to split beside a database write.
    return Limit.parse(getattr(settings, name), name)


def chat_session_start_count(address: str) -> None:
    """Count a new chat session from a client address; RateLimited past
    BANKDESK_RATE_LIMIT_CHAT_SESSIONS, so a script cannot open case after case. Resumed
    sessions are not counted: a customer's reconnects never use up the address's allowance."""
    rate_limit_hit(f"chat:session:ip:{address}", _limit("BANKDESK_RATE_LIMIT_CHAT_SESSIONS"))


def chat_frame_count(address: str) -> None:
    """Count one frame from a client address, across all its open chats; RateLimited past
    BANKDESK_RATE_LIMIT_CHAT_FRAMES (each connection's own limit holds one connection only)."""
    rate_limit_hit(f"chat:frame:ip:{address}", _limit("BANKDESK_RATE_LIMIT_CHAT_FRAMES"))


def chat_customer_identify(token: str, endpoint: ChatEndpoint) -> int | None:
    """The customer a token from the bank's app names, or None (the chat stays anonymous)."""
    try:
        claim = customer_token_verify(token, secret=endpoint.token_secret)
    except InvalidCustomerToken as exc:
        logger.info("web chat customer token refused: %s", exc)
        return None
    customers = Customer.objects.all()
    if claim.customer_number:
        customers = customers.filter(customer_number=claim.customer_number)
    elif claim.customer_id is not None:
        customers = customers.filter(pk=claim.customer_id)
    return customers.values_list("pk", flat=True).first()


def chat_case_id(thread_id: str) -> int | None:
    """The case the session's latest conversation is on."""
    case = thread_case(Channel.WEB_CHAT, thread_id)
    return case.pk if case is not None else None


def chat_message_receive(
    *,
    thread_id: str,
    client_id: str,
    text: str,
    customer_id: int | None,
    endpoint_id: int | None,
) -> Received:
    """A customer's message onto a case. The browser's own id for it makes a resend after a
    dropped connection the same message, not a second one."""
    result = inbound_receive(
        InboundMessage(
            channel=Channel.WEB_CHAT,
            external_id=f"{thread_id}:{client_id}",
            text=text,
            customer_id=customer_id,
            thread_id=thread_id,
            endpoint_id=endpoint_id,
        )
    )
    if result.case is None or result.message is None:  # only automatic messages are ignored
        raise RuntimeError("a chat message was not recorded")
    return Received(case_id=result.case.pk, message_id=result.message.pk)


def chat_session_open(
    *,
    endpoint: ChatEndpoint,
    thread_id: str,
    token: str,
    after: int,
    new_from: str | None,
) -> Opened:
    """A hello: the customer its token names, the case the session is on, whether the
    assistant answers it, and what the browser has not shown (its turns with the assistant,
    the messages after `after`). A new session, started from the address `new_from`, is
    counted against that address's allowance first (RateLimited past it) and has nothing to
    read yet: its thread id was drawn at random a moment ago."""
    if new_from is not None:
        chat_session_start_count(new_from)
    customer_id = chat_customer_identify(token, endpoint) if token else None
    case_id = None if new_from is not None else chat_case_id(thread_id)
    has_history = new_from is None
    return Opened(
        customer_id=customer_id,
        is_token_refused=bool(token) and customer_id is None,
        case_id=case_id,
        assistant=case_id is None and chat_assistant_ready(endpoint),
        turns=chat_turns_since_start(thread_id) if has_history and endpoint.assistant else [],
        messages=chat_messages_since(thread_id, after) if has_history else [],
    )


def chat_message_take(
    *,
    endpoint: ChatEndpoint,
    thread_id: str,
    client_id: str,
    text: str,
    customer_id: int | None,
    with_a_person: bool,
    frame_from: str | None,
) -> Answered | Received:
    """A customer's message, all the database work of it in one call: the frame counted
    against the address `frame_from` when given (RateLimited past its limit, nothing stored),
    then answered by the assistant where it takes the message, else put on a case."""
    if frame_from is not None:
        chat_frame_count(frame_from)
    answered = chat_assistant_answer(
        endpoint=endpoint,
        thread_id=thread_id,
        client_id=client_id,
        text=text,
        customer_id=customer_id,
        with_a_person=with_a_person,
    )
    if answered is not None:
        return answered
    return chat_message_receive(
        thread_id=thread_id,
        client_id=client_id,
        text=text,
        customer_id=customer_id,
        endpoint_id=endpoint.endpoint_id,
    )


def _author(message: Message) -> tuple[str, str]:
    if message.direction == Direction.INBOUND:
        return "customer", ""
    # Customers see the agent's first name at most, never the username.
    name = message.author.first_name if message.author is not None else ""
    return "staff", name or _("Customer service")


def chat_frame(message: Message) -> dict[str, Any]:
    """A message as the widget shows it."""
    author, name = _author(message)
    frame: dict[str, Any] = {
        "type": "message",
        "seq": message.pk,
        "text": message.text,
        "author": author,
        "name": name,
        "at": message.created_at.isoformat(),
    }
    if message.direction == Direction.INBOUND and message.external_id:
        frame["client_id"] = message.external_id.partition(":")[2]
    return frame


def chat_messages_since(
    thread_id: str, after: int, *, outbound_only: bool = False
) -> list[dict[str, Any]]:
    """The session's messages after `seq`, oldest first: what a browser missed while away."""
    messages = Message.objects.filter(
        conversation__channel=Channel.WEB_CHAT,
        conversation__external_thread_id=thread_id,
        pk__gt=after,
    ).select_related("author")
    # A hand-off's transcript repeats, for the staff, what the widget showed as it happened.
    messages = messages.exclude(external_id__startswith=TRANSCRIPT_PREFIX)
    if outbound_only:
        messages = messages.filter(direction=Direction.OUTBOUND)
    return [chat_frame(message) for message in messages.order_by("pk")[:REPLAY_MAX]]


def chat_assistant_ready(endpoint: ChatEndpoint) -> bool:
    """Whether the assistant answers this endpoint's chats now: offered, and a model in
    service (without one it could only pass every message on)."""
    return endpoint.assistant and current_model() is not None


def chat_turn_frame(turn: Turn) -> dict[str, Any]:
    """A turn of the dialogue with the assistant as the widget shows it."""
    customer = turn.speaker == Speaker.CUSTOMER
    frame: dict[str, Any] = {
        "type": "message",
        "turn": turn.pk,
        "text": turn.text,
        "author": "customer" if customer else "assistant",
        "name": "" if customer else _("Assistant"),
        "at": turn.created_at.isoformat(),
    }
    if customer and turn.client_id:
        frame["client_id"] = turn.client_id
    return frame


def chat_assistant_answer(
    *,
    endpoint: ChatEndpoint,
    thread_id: str,
    client_id: str,
    text: str,
    customer_id: int | None,
    with_a_person: bool,
) -> Answered | None:
    """A customer's message answered by the assistant, or None when it is for people (the
    endpoint does not offer the assistant, or `assistant.services.chat_reply` says so)."""
    if not endpoint.assistant:
        return None
    answered = chat_reply(
        channel=Channel.WEB_CHAT,
        thread_id=thread_id,
        client_id=client_id,
        text=text,
        customer=lambda: Customer.objects.filter(pk=customer_id).first() if customer_id else None,
        with_a_person=with_a_person,
    )
    if answered is None:
        return None
    return Answered(
        turn_id=answered.turns[0].pk,
        frames=[chat_turn_frame(turn) for turn in answered.turns[1:]],
        case_id=answered.case.pk if answered.case is not None else None,
    )


def chat_turns_since_start(thread_id: str) -> list[dict[str, Any]]:
    """The session's turns with the assistant, oldest first (a browser keeps no cursor for
    them: there are few, and it ignores turns it shows already)."""
    return [chat_turn_frame(turn) for turn in chat_turns(Channel.WEB_CHAT, thread_id)]


SURVEY_FRAMES_MAX = 3


def chat_survey_frames(thread_id: str) -> list[dict[str, Any]]:
    """The ratings offered on the session's case that are still open (a reconnect shows them
    again; the widget hides one it has answered)."""
    case_id = chat_case_id(thread_id)
    if case_id is None:
        return []
    offered = OutboxMessage.objects.filter(
        case_id=case_id,
        channel=Channel.WEB_CHAT,
        message__isnull=True,
        status=OutboxStatus.SENT,
    ).order_by("-id")[:SURVEY_FRAMES_MAX]
    now = timezone.now().isoformat()
    frames = []
    for item in offered:
        survey = item.payload_data().get("survey")
        if isinstance(survey, dict) and str(survey.get("expires_at", "")) > now:
            frames.append({"type": "survey", **survey})
    return frames


def chat_rating_take(thread_id: str, token: str, score: int) -> str:
    """A rating tapped in the widget, handed to whoever records ratings; what became of it."""
    case_id = chat_case_id(thread_id)
    if case_id is None:
        return "invalid"
    for _receiver, result in chat_rated.send(
        sender=None, case_id=case_id, token=token, score=score
    ):
        if isinstance(result, str):
            return result
    return "invalid"
