"""Telling open staff screens (and a web chat session) that a case has a new message.

`live_message_publish` runs after the transaction that wrote the message commits, so nobody is
told about a message that was rolled back. The notice carries ids only.
"""

from __future__ import annotations

from bankdesk.lib.channels import Channel
from bankdesk.lib.live import case_group, chat_group, group_notify
from bankdesk.tickets.choices import Direction
from bankdesk.tickets.models import Message


def live_message_publish(message: Message) -> None:
    """Notify the case's open screens, and the chat session a web chat reply is for."""
    group_notify(
        case_group(message.case_id),
        {"type": "case.message", "case_id": message.case_id, "message_id": message.pk},
    )
    if message.channel == Channel.WEB_CHAT and message.direction == Direction.OUTBOUND:
        thread_id = message.conversation.external_thread_id
        if thread_id:
            group_notify(chat_group(thread_id), {"type": "chat.notify"})
