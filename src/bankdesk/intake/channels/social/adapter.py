"""Replies to social mentions.

A public reply speaks for the bank in front of everyone, so bankdesk does not post one on its
own: by default the reply is recorded on the case and its outbox entry is given up at once
("reply on the platform"), which staff see. An endpoint whose `settings["api_url"]` names a
publishing service gets the reply posted there instead, in the same contract as SMS
(`sms.provider`), addressed to the conversation `<platform>:<author handle>`.
"""

from __future__ import annotations

from typing import ClassVar

from bankdesk.intake.channels.base import ChannelAdapter
from bankdesk.intake.channels.sms.provider import provider_post, provider_url
from bankdesk.intake.errors import DeliveryFailed
from bankdesk.intake.models import ChannelEndpoint, OutboxMessage
from bankdesk.lib.channels import Channel


class SocialAdapter(ChannelAdapter):
    channel: ClassVar[str] = Channel.SOCIAL

    def deliver(self, item: OutboxMessage, endpoint: ChannelEndpoint | None) -> str:
        if not provider_url(endpoint):
            raise DeliveryFailed(
                "social replies are not posted automatically: reply on the platform",
                permanent=True,
            )
        payload = item.payload_data()
        body = {
            "to": item.recipient,
            "text": str(payload.get("text", "")),
            "reference": str(payload.get("case_number", "")),
        }
        return provider_post(item, endpoint, body)
