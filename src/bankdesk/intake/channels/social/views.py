"""Social mentions: a generic signed webhook for whatever listening service the bank uses.

Same signature scheme as SMS (`sms.webhook`). Body: `{"id": "…", "platform": "weibo",
"author_handle": "…", "author_name": "…", "text": "…", "url": "https://…",
"created_at": "2026-10-01T09:00:00+08:00"}`. A public post names nobody the bank can
recognise, so the mention carries no customer identity; one author's mentions on one platform
are one conversation.
"""

from __future__ import annotations

import re
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from bankdesk.intake.channels.base import InboundMessage
from bankdesk.intake.channels.sms.webhook import signed_webhook, text_field, time_field
from bankdesk.intake.errors import MalformedPayload
from bankdesk.intake.models import ChannelEndpoint
from bankdesk.intake.services import IntakeResult, inbound_receive
from bankdesk.lib.channels import Channel

PLATFORM = re.compile(r"^[a-z0-9][a-z0-9_-]{0,29}$")
TEXT_MAX = 10_000


def social_inbound(endpoint: ChannelEndpoint, data: dict[str, Any]) -> IntakeResult:
    """One public mention of the bank onto a case, with a link back to the post."""
    platform = text_field(data, "platform", max_length=30).lower()
    if not PLATFORM.match(platform):
        raise MalformedPayload("platform must be a short lower-case name", field="platform")
    post_id = text_field(data, "id", max_length=200)
    handle = text_field(data, "author_handle", max_length=200)
    name = text_field(data, "author_name", max_length=120, required=False)
    text = text_field(data, "text", max_length=TEXT_MAX)
    url = text_field(data, "url", max_length=2000, required=False)
    if url and not url.lower().startswith(("https://", "http://")):
        raise MalformedPayload("url must be an http(s) address", field="url")
    created_at = time_field(data, "created_at")
    byline = f"{name} (@{handle})" if name else f"@{handle}"
    body = "\n\n".join(part for part in (text, f"{platform} · {byline}", url) if part)
    return inbound_receive(
        InboundMessage(
            channel=Channel.SOCIAL,
            external_id=f"{platform}:{post_id}",
            text=body,
            thread_id=f"{platform}:{handle}",
            received_at=created_at,
            endpoint_id=endpoint.pk,
            metadata={"platform": platform, "url": url, "author_handle": handle},
        )
    )


@csrf_exempt  # signed by the listening service instead; it has no session or CSRF cookie
@require_POST
def social_webhook(request: HttpRequest, code: str) -> JsonResponse:
    return signed_webhook(request, code, Channel.SOCIAL, social_inbound)
