"""The staff side of live screens: one WebSocket per open console page, subscribed to cases.

Console → bankdesk::

    {"type": "subscribe", "case_id": int}
    {"type": "typing", "case_id": int, "is_typing": bool}
    {"type": "watch", "view": "queue"}

bankdesk → console::

    {"type": "subscribed", "case_id": int}
    {"type": "watching", "view": "queue"}
    {"type": "queue_changed"}     at most one every QUEUE_NOTICE_SECONDS, whatever the traffic
    {"type": "message", "case_id": int, "message_id": int, "direction": "inbound"|"outbound",
     "channel": str, "text": str, "author": str, "at": ISO 8601}
    {"type": "typing", "case_id": int, "author": "customer", "is_typing": bool}
    {"type": "error", "code": str, "case_id"?: int}

A case outside the member of staff's scope is refused exactly like one that does not exist.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from channels.db import database_sync_to_async  # type: ignore[import-untyped]
from channels.generic.websocket import AsyncJsonWebsocketConsumer  # type: ignore[import-untyped]

from bankdesk.console.live import live_session_is_active, live_staff_may_connect
from bankdesk.intake.channels.webchat.consumers import origin_is_allowed
from bankdesk.lib.channels import Channel
from bankdesk.lib.live import QUEUE_GROUP, case_group, chat_group
from bankdesk.staff.models import User
from bankdesk.tickets.access import access_case_by_id
from bankdesk.tickets.errors import CaseNotFound
from bankdesk.tickets.models import Conversation, Message

CLOSE_UNAUTHENTICATED = 4401
# How often an open screen re-checks that its console session is still in use.
ACTIVITY_CHECK_SECONDS = 60
SUBSCRIPTIONS_MAX = 50
# A busy centre changes cases many times a second: each screen hears of it at most this often,
# and then reads the queue again through its own access checks.
QUEUE_NOTICE_SECONDS = 2.0


def _case_visible(user: User, case_id: int) -> bool:
    try:
        access_case_by_id(user, case_id)
    except CaseNotFound:
        return False
    return True


def _message_frame(user: User, case_id: int, message_id: int) -> dict[str, Any] | None:
    """The message for a screen, if its case is still visible to whoever is looking."""
    if not _case_visible(user, case_id):
        return None
    message = (
        Message.objects.filter(pk=message_id, case_id=case_id).select_related("author").first()
    )
    if message is None:
        return None
    return {
        "type": "message",
        "case_id": case_id,
        "message_id": message.pk,
        "direction": message.direction,
        "channel": message.channel,
        "text": message.text,
        "author": str(message.author) if message.author is not None else "",
        "at": message.created_at.isoformat(),
    }


def _chat_threads(case_id: int) -> list[str]:
    return list(
        Conversation.objects.filter(case_id=case_id, channel=Channel.WEB_CHAT)
        .exclude(external_thread_id="")
        .values_list("external_thread_id", flat=True)
    )


class StaffCaseConsumer(AsyncJsonWebsocketConsumer):
    """One member of staff's open console page."""

    user: User

    async def connect(self) -> None:
        user = self.scope.get("user")
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in self.scope["headers"]}
        if not origin_is_allowed(headers.get("origin", ""), headers.get("host", ""), ()):
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        may = await database_sync_to_async(live_staff_may_connect)(user, self.scope.get("session"))
        if not may or not isinstance(user, User):
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.user = user
        self.case_ids: set[int] = set()
        self.watching = False
        self.queue_notice: asyncio.Task[None] | None = None
        self.activity_checked = time.monotonic()
        await self.accept()

    async def still_active(self) -> bool:
        """Close the screen once its session has gone idle (see `live_session_is_active`)."""
        if time.monotonic() - self.activity_checked < ACTIVITY_CHECK_SECONDS:
            return True
        session = self.scope.get("session")
        key = getattr(session, "session_key", None)
        if not await database_sync_to_async(live_session_is_active)(key):
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return False
        self.activity_checked = time.monotonic()
        return True

    async def disconnect(self, code: int) -> None:
        for case_id in getattr(self, "case_ids", set()):
            await self.channel_layer.group_discard(case_group(case_id), self.channel_name)
        if getattr(self, "watching", False):
            await self.channel_layer.group_discard(QUEUE_GROUP, self.channel_name)
        notice = getattr(self, "queue_notice", None)
        if notice is not None:
            notice.cancel()

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "watch":
            await self.watch(content.get("view"))
            return
        case_id = content.get("case_id") if isinstance(content, dict) else None
        if not isinstance(case_id, int) or isinstance(case_id, bool):
            await self.send_json({"type": "error", "code": "bad_request"})
            return
        if kind == "subscribe":
            await self.subscribe(case_id)
        elif kind == "typing" and case_id in self.case_ids:
            threads = await database_sync_to_async(_chat_threads)(case_id)
            for thread_id in threads:
                await self.channel_layer.group_send(
                    chat_group(thread_id),
                    {"type": "chat.typing", "is_typing": content.get("is_typing") is True},
                )
        else:
            await self.send_json({"type": "error", "code": "bad_request", "case_id": case_id})

    async def subscribe(self, case_id: int) -> None:
        visible = len(self.case_ids) < SUBSCRIPTIONS_MAX and await database_sync_to_async(
            _case_visible
        )(self.user, case_id)
        if not visible:
            await self.send_json({"type": "error", "code": "not_found", "case_id": case_id})
            return
        self.case_ids.add(case_id)
        await self.channel_layer.group_add(case_group(case_id), self.channel_name)
        await self.send_json({"type": "subscribed", "case_id": case_id})

    async def watch(self, view: Any) -> None:
        if view != "queue":
            await self.send_json({"type": "error", "code": "bad_request"})
            return
        if not self.watching:
            self.watching = True
            await self.channel_layer.group_add(QUEUE_GROUP, self.channel_name)
        await self.send_json({"type": "watching", "view": "queue"})

    # -- from the channel layer -----------------------------------------------------------

    async def queue_changed(self, event: dict[str, Any]) -> None:
        """Coalesce: the first change starts a short wait, the ones during it ride along."""
        if not self.watching or self.queue_notice is not None:
            return
        self.queue_notice = asyncio.ensure_future(self._queue_notice())

    async def _queue_notice(self) -> None:
        try:
            await asyncio.sleep(QUEUE_NOTICE_SECONDS)
            if await self.still_active():
                await self.send_json({"type": "queue_changed"})
        finally:
            self.queue_notice = None

    async def case_message(self, event: dict[str, Any]) -> None:
        case_id, message_id = event.get("case_id"), event.get("message_id")
        if case_id not in self.case_ids or not isinstance(message_id, int):
            return
        if not await self.still_active():
            return
        frame = await database_sync_to_async(_message_frame)(self.user, case_id, message_id)
        if frame is not None:
            await self.send_json(frame)

    async def case_typing(self, event: dict[str, Any]) -> None:
        if event.get("case_id") in self.case_ids:
            await self.send_json(
                {
                    "type": "typing",
                    "case_id": event["case_id"],
                    "author": "customer",
                    "is_typing": event.get("is_typing") is True,
                }
            )
