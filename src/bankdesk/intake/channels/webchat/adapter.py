"""Sending a staff reply to a chat session."""

from __future__ import annotations

from typing import ClassVar

from bankdesk.intake.channels.base import ChannelAdapter
from bankdesk.intake.models import ChannelEndpoint, OutboxMessage
from bankdesk.lib.channels import Channel
from bankdesk.lib.live import chat_group, group_notify


class WebChatAdapter(ChannelAdapter):
    """Tells the session's open connections that a reply is waiting; they read it from the
    database in order. A customer who is offline counts as reached: the widget replays every
    message after the last one it saw when it reconnects, so there is nothing to retry."""

    channel: ClassVar[str] = Channel.WEB_CHAT

    def deliver(self, item: OutboxMessage, endpoint: ChannelEndpoint | None) -> str:
        survey = item.payload_data().get("survey")
        if isinstance(survey, dict):
            # A rating to offer at the end of the chat (the feedback app's survey).
            group_notify(chat_group(item.recipient), {"type": "chat.survey", "survey": survey})
        else:
            group_notify(chat_group(item.recipient), {"type": "chat.notify"})
        return f"webchat:{item.message_id or item.idempotency_key}"
