"""Outbound SMS through the endpoint's provider (contract in `provider`)."""

from __future__ import annotations

from typing import ClassVar

from bankdesk.intake.channels.base import ChannelAdapter
from bankdesk.intake.channels.sms.provider import provider_post
from bankdesk.intake.models import ChannelEndpoint, OutboxMessage
from bankdesk.lib.channels import Channel


class SmsAdapter(ChannelAdapter):
    """A reply as one text to the customer's phone, quoting the case number."""

    channel: ClassVar[str] = Channel.SMS

    def deliver(self, item: OutboxMessage, endpoint: ChannelEndpoint | None) -> str:
        payload = item.payload_data()
        body = {
            "to": item.recipient,
            "text": str(payload.get("text", "")),
            "reference": str(payload.get("case_number", "")),
        }
        return provider_post(item, endpoint, body)
