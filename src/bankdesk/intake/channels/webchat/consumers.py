"""The customer's side of live chat: one WebSocket per open widget, JSON frames both ways.

Browser → bankdesk::

    {"type": "hello", "session_id"?: str, "customer_token"?: str, "last_seq"?: int}   first
    {"type": "message", "client_id": str, "text": str}
    {"type": "typing", "is_typing": bool}

bankdesk → browser::

    {"type": "welcome", "session_id": str, "is_identified": bool,
     "assistant": {"name": str} | null}
    {"type": "ack", "client_id": str, "message_id": int, "seq": int}       to a person
    {"type": "ack", "client_id": str, "turn": int}                          to the assistant
    {"type": "message", "seq": int, "text": str, "author": "customer"|"staff", "name": str,
     "at": ISO 8601, "client_id"?: str}
    {"type": "message", "turn": int, "text": str, "author": "customer"|"assistant",
     "name": str, "at": ISO 8601, "client_id"?: str}
    {"type": "typing", "is_typing": bool}
    {"type": "error", "code": str, "message": str, "client_id"?: str}

A frame that cannot be read (not JSON, nested, oversized, binary) gets the error `bad_frame`;
one past this connection's or this address's rate gets `rate_limited`. bankdesk closes the
socket with 4403 for a page the endpoint does not list, and with 4429, and a reason, after
too many refused frames or when the address has started too many new chats.

`seq` orders every message of the session; after a reconnect, `hello` with `last_seq` replays
what came later, and a message re-sent with the same `client_id` is acknowledged, not stored
twice. Where the endpoint offers the assistant (`assistant` in the welcome), it answers a
session's messages first, as `turn`s, until it hands the session to a person; every turn
comes before the session's first `seq`, and `hello` sends them all again (see `sessions`).
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

from asgiref.sync import sync_to_async
from channels.consumer import get_handler_name  # type: ignore[import-untyped]
from channels.generic.websocket import AsyncJsonWebsocketConsumer  # type: ignore[import-untyped]
from django.db import connections
from django.utils.translation import gettext as _

from bankdesk.intake.channels.webchat import sessions
from bankdesk.intake.channels.webchat.tokens import (
    chat_session_new,
    chat_session_resume,
    chat_session_sign,
)
from bankdesk.lib.errors import BankdeskError, MalformedInput, RateLimited
from bankdesk.lib.json_input import json_input_parse
from bankdesk.lib.live import case_group, chat_group
from bankdesk.lib.text import is_unusable

T = TypeVar("T")

# Customers' database work runs on these threads, not on the one thread every thread-sensitive
# call in the process shares: open chats then do not queue behind each other's writes in Python.
# A process's writes take turns anyway (SQLite's one writer; PostgreSQL's pool is shared with
# the pages), so a few threads are enough to overlap one message's database waits with another's
# Python; more only hand the interpreter lock around. Each thread keeps its SQLite connection.
DATABASE_THREADS = 4
_database_threads = ThreadPoolExecutor(DATABASE_THREADS, thread_name_prefix="webchat-db")


def _connections_keep() -> None:
    """After a chat's database call, its thread keeps an SQLite connection for the next one:
    opening one costs milliseconds of CPU (Django registers its SQL functions, the PRAGMAs
    run), a good part of what a whole message costs. One that met an error, or was left inside a
    transaction, is closed rather than trusted; a PostgreSQL connection goes back to the
    pool, which the pages share."""
    for connection in connections.all(initialized_only=True):
        if connection.connection is None:
            continue
        is_clean = not connection.errors_occurred and not connection.in_atomic_block
        if connection.vendor == "sqlite" and is_clean and connection.get_autocommit():
            continue
        connection.close()


def in_database(function: Callable[..., T]) -> Callable[..., Awaitable[T]]:
    """`function` as a coroutine that runs it on the chats' database threads."""

    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> T:
        try:
            return function(*args, **kwargs)
        finally:
            _connections_keep()

    wrapped: Callable[..., Awaitable[T]] = sync_to_async(
        run, thread_sensitive=False, executor=_database_threads
    )
    return wrapped


TEXT_MAX = 4000
# A JSON frame carrying the longest message, every character escaped (\uXXXX), with room over.
FRAME_MAX = TEXT_MAX * 6 + 1024
# Every frame is one flat object; anything nested deeper is not from the widget.
FRAME_DEPTH_MAX = 4
CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
# A survey link's token, as the rating frame carries it back.
RATING_TOKEN_MAX = 300
# Frames per connection: a steady rate with a burst on top (someone pasting several lines).
RATE_PER_SECOND = 5.0
RATE_BURST = 20.0
# Past this many refused frames the connection is closed: a script, not a person.
REFUSALS_MAX = 50
CLOSE_FORBIDDEN_ORIGIN = 4403
# Past the refusals above, or past the address's new chats (BANKDESK_RATE_LIMIT_CHAT_SESSIONS).
CLOSE_ABUSE = 4429


def origin_is_allowed(origin: str, host: str, allowed: tuple[str, ...]) -> bool:
    """The page the widget runs on: the endpoint's listed origins, else bankdesk's own host.

    Browsers always send Origin on a WebSocket handshake; a connection without one is not a
    browser and has no cookies to misuse, so it is let through.
    """
    if not origin:
        return True
    if origin.rstrip("/") in allowed:
        return True
    return urlsplit(origin).netloc.lower() == host.lower()


class TokenBucket:
    """Frames a connection may send: refills at `rate` a second, holds at most `burst`."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self.tokens, self.updated = burst, time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


def _headers(scope: dict[str, Any]) -> dict[str, str]:
    return {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}


def _client_address(scope: dict[str, Any]) -> str:
    """The peer's address, as the HTTP rate limits see it (REMOTE_ADDR)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def _frame_read(text_data: str | None) -> Any:
    """A frame as the bounded reader reads it, or None when it cannot be read (binary,
    oversized, not JSON, nested too deep)."""
    if text_data is None or len(text_data) > FRAME_MAX:
        return None
    try:
        return json_input_parse(text_data, max_size=FRAME_MAX, max_depth=FRAME_DEPTH_MAX)
    except MalformedInput:
        return None


def _kind(content: Any) -> Any:
    return content.get("type") if isinstance(content, dict) else None


def _message_refusal(content: dict[str, Any]) -> tuple[str, str, dict[str, Any]] | None:
    """Why a message frame cannot be stored (code, text, extra fields of the error frame), or
    None when it can."""
    client_id, text = content.get("client_id"), content.get("text")
    if not isinstance(client_id, str) or not CLIENT_ID.fullmatch(client_id):
        return "bad_client_id", _("The message has no usable id."), {}
    if not isinstance(text, str) or not text.strip():
        return "empty", _("The message is empty."), {"client_id": client_id}
    if is_unusable(text):  # NUL above all, which PostgreSQL refuses: checked before any write
        return (
            "unusable_text",
            _("The message contains characters that cannot be sent."),
            {"client_id": client_id},
        )
    if len(text) > TEXT_MAX:
        return (
            "too_long",
            _("A message may be at most %(count)d characters.") % {"count": TEXT_MAX},
            {"client_id": client_id},
        )
    return None


class CustomerChatConsumer(AsyncJsonWebsocketConsumer):
    """One customer's open widget."""

    endpoint: sessions.ChatEndpoint
    thread_id: str = ""
    case_id: int | None = None
    customer_id: int | None = None
    # The highest staff message this connection has shown; later ones are read on notice.
    cursor: int = 0

    async def connect(self) -> None:
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        code = (query.get("endpoint") or [""])[0][:60]
        endpoint = await in_database(sessions.chat_endpoint_get)(code)
        headers = _headers(self.scope)
        if endpoint is None or not origin_is_allowed(
            headers.get("origin", ""), headers.get("host", ""), endpoint.origins
        ):
            await self.close(code=CLOSE_FORBIDDEN_ORIGIN)
            return
        self.endpoint = endpoint
        self.address = _client_address(self.scope)
        self.bucket = TokenBucket(RATE_PER_SECOND, RATE_BURST)
        self.refusals = 0
        await self.accept()

    async def dispatch(self, message: dict[str, Any]) -> None:
        """Every event to its handler, as channels does, but without first closing database
        connections on the thread every thread-sensitive call in the process shares: this
        consumer uses none there, and that hop made every frame of every chat queue for it."""
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def disconnect(self, code: int) -> None:
        if self.thread_id:
            await self.channel_layer.group_discard(chat_group(self.thread_id), self.channel_name)

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        """Every frame: counted against this connection and the address, then read, text only,
        by the bounded reader; one that cannot be read gets an error frame, never a crash.

        A message to store is counted against the address in the same database call that
        stores it; every other frame, in a call of its own before it is answered."""
        if not self.bucket.take():
            await self.refuse("rate_limited", _("You are sending messages too quickly."))
            return
        content = _frame_read(text_data)
        if self.thread_id and _kind(content) == "message" and _message_refusal(content) is None:
            await self.message_take(content["client_id"], content["text"], frame_counted=False)
            return
        if not await self.address_allows(sessions.chat_frame_count):
            await self.refuse("rate_limited", _("You are sending messages too quickly."))
            return
        if content is None:
            await self.refuse("bad_frame", _("That message could not be read."))
            return
        await self.receive_json(content)

    async def address_allows(self, count: Callable[[str], None]) -> bool:
        """Whether the client address is within the limit `count` keeps (in the rate limiter's
        shared store, so it holds across every process serving chats)."""
        try:
            await in_database(count)(self.address)
        except RateLimited:
            return False
        return True

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        kind = _kind(content)
        if kind == "hello":
            await self.hello(content)
        elif not self.thread_id:
            await self.refuse("hello_first", _("The chat has not started yet."))
        elif kind == "message":
            await self.message(content)
        elif kind == "typing":
            await self.typing(content)
        elif kind == "rating":
            await self.rating(content)
        else:
            await self.refuse("unknown_frame", _("That kind of message is not understood."))

    async def refuse(self, code: str, message: str, **extra: Any) -> None:
        self.refusals += 1
        await self.send_json({"type": "error", "code": code, "message": message, **extra})
        if self.refusals > REFUSALS_MAX:
            await self.close(code=CLOSE_ABUSE)

    async def hello(self, content: dict[str, Any]) -> None:
        if self.thread_id:
            await self.refuse("hello_again", _("The chat has already started."))
            return
        resumed = chat_session_resume(content.get("session_id"))
        thread_id = resumed or chat_session_new()
        if resumed:
            # Listening before reading what the session missed: a reply written in between
            # is then either read now or noticed.
            await self.channel_layer.group_add(chat_group(thread_id), self.channel_name)
            self.thread_id = thread_id
        last_seq = content.get("last_seq")
        after = last_seq if isinstance(last_seq, int) and last_seq >= 0 else 0
        try:
            opened = await in_database(sessions.chat_session_open)(
                endpoint=self.endpoint,
                thread_id=thread_id,
                token=content.get("customer_token") or "",
                after=after,
                new_from=None if resumed else self.address,
            )
        except RateLimited:
            await self.send_json(
                {
                    "type": "error",
                    "code": "rate_limited",
                    "message": _("Too many chats have been started from your network."),
                }
            )
            await self.close(code=CLOSE_ABUSE, reason="too many new chats from this address")
            return
        if not resumed:
            await self.channel_layer.group_add(chat_group(thread_id), self.channel_name)
            self.thread_id = thread_id
        self.customer_id, self.case_id = opened.customer_id, opened.case_id
        if opened.is_token_refused:
            await self.refuse(
                "token_invalid",
                _("We could not confirm who you are; you are chatting as a guest."),
            )
        await self.send_json(
            {
                "type": "welcome",
                "session_id": chat_session_sign(thread_id),
                "is_identified": self.customer_id is not None,
                "assistant": {"name": _("Assistant")} if opened.assistant else None,
            }
        )
        for frame in opened.turns:
            await self.send_json(frame)
        self.cursor = after
        await self.show(opened.messages)
        for frame in await in_database(sessions.chat_survey_frames)(thread_id):
            await self.send_json(frame)

    async def replay(self, after: int, *, outbound_only: bool) -> None:
        frames = await in_database(sessions.chat_messages_since)(
            self.thread_id, after, outbound_only=outbound_only
        )
        await self.show(frames)

    async def show(self, frames: list[dict[str, Any]]) -> None:
        for frame in frames:
            if frame["author"] == "staff":
                self.cursor = max(self.cursor, frame["seq"])
            await self.send_json(frame)

    async def message(self, content: dict[str, Any]) -> None:
        """A message frame that has been counted against the address already."""
        refusal = _message_refusal(content)
        if refusal is not None:
            code, text, extra = refusal
            await self.refuse(code, text, **extra)
            return
        await self.message_take(content["client_id"], content["text"], frame_counted=True)

    async def message_take(self, client_id: str, text: str, *, frame_counted: bool) -> None:
        """A readable message: answered by the assistant or put on a case, and acknowledged."""
        try:
            taken = await in_database(sessions.chat_message_take)(
                endpoint=self.endpoint,
                thread_id=self.thread_id,
                client_id=client_id,
                text=text,
                customer_id=self.customer_id,
                with_a_person=self.case_id is not None,
                frame_from=None if frame_counted else self.address,
            )
        except RateLimited:
            await self.refuse("rate_limited", _("You are sending messages too quickly."))
            return
        except BankdeskError as exc:
            await self.refuse(exc.code, exc.message, client_id=client_id)
            return
        if isinstance(taken, sessions.Answered):
            await self.send_json({"type": "ack", "client_id": client_id, "turn": taken.turn_id})
            for frame in taken.frames:
                await self.send_json(frame)
            if taken.case_id is not None:  # handed to a person: the chat is the case's now
                self.case_id = taken.case_id
            return
        self.case_id = taken.case_id
        await self.send_json(
            {
                "type": "ack",
                "client_id": client_id,
                "message_id": taken.message_id,
                "seq": taken.message_id,
            }
        )

    async def typing(self, content: dict[str, Any]) -> None:
        if self.case_id is None:
            return
        await self.channel_layer.group_send(
            case_group(self.case_id),
            {
                "type": "case.typing",
                "case_id": self.case_id,
                "author": "customer",
                "is_typing": content.get("is_typing") is True,
            },
        )

    async def rating(self, content: dict[str, Any]) -> None:
        """The customer tapped a score on a rating the chat offered."""
        token, score = content.get("token"), content.get("score")
        if not isinstance(token, str) or not 0 < len(token) <= RATING_TOKEN_MAX:
            await self.refuse("bad_rating", _("That rating could not be read."))
            return
        if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
            await self.refuse("bad_rating", _("Choose a score from 1 to 5."))
            return
        result = await in_database(sessions.chat_rating_take)(self.thread_id, token, score)
        await self.send_json({"type": "rated", "token": token, "result": result})

    # -- from the channel layer -----------------------------------------------------------

    async def chat_notify(self, event: dict[str, Any]) -> None:
        """A staff reply was written for this session: show what this connection has not."""
        await self.replay(self.cursor, outbound_only=True)

    async def chat_survey(self, event: dict[str, Any]) -> None:
        """The case was resolved: offer its rating."""
        survey = event.get("survey")
        if isinstance(survey, dict):
            await self.send_json({"type": "survey", **survey})

    async def chat_typing(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "typing", "is_typing": event.get("is_typing") is True})
