"""Inbound SMS: the provider's webhook, in the generic signed contract (see `webhook`).

Body: `{"message_id": "…", "from": "+8613812345678", "to": "95588", "text": "…",
"received_at": "2026-10-01T09:00:00+08:00"}` (`received_at` optional). A provider with its
own field names gets a mapping per endpoint later; the signature scheme stays the same.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from bankdesk.customers.errors import InvalidIdentity
from bankdesk.customers.normalise import phone_e164
from bankdesk.intake.channels.base import InboundMessage
from bankdesk.intake.channels.sms.webhook import signed_webhook, text_field, time_field
from bankdesk.intake.errors import MalformedPayload
from bankdesk.intake.models import ChannelEndpoint
from bankdesk.intake.services import IntakeResult, inbound_receive
from bankdesk.lib.channels import Channel

# Concatenated SMS rarely pass a few segments; anything far longer is not an SMS.
TEXT_MAX = 5000


def sms_inbound(endpoint: ChannelEndpoint, data: dict[str, Any]) -> IntakeResult:
    """One text from a customer's phone onto their case; the phone is the conversation."""
    message_id = text_field(data, "message_id", max_length=255)
    sender = text_field(data, "from", max_length=40)
    text_field(data, "to", max_length=40)
    text = text_field(data, "text", max_length=TEXT_MAX)
    received_at = time_field(data, "received_at")
    try:
        phone = phone_e164(sender)
    except InvalidIdentity as exc:
        raise MalformedPayload(f"from is not a phone number: {exc.message}", field="from") from exc
    return inbound_receive(
        InboundMessage(
            channel=Channel.SMS,
            external_id=message_id,
            text=text,
            sender_kind="phone",
            sender_value=phone,
            thread_id=phone,
            received_at=received_at,
            endpoint_id=endpoint.pk,
        )
    )


@csrf_exempt  # signed by the provider instead; it has no session or CSRF cookie
@require_POST
def sms_webhook(request: HttpRequest, code: str) -> JsonResponse:
    return signed_webhook(request, code, Channel.SMS, sms_inbound)
