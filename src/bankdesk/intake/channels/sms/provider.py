"""The generic outbound provider call: one JSON POST per message, with its idempotency key.

`POST <settings["api_url"]>` with `Authorization: Bearer <secrets["api_key"]>`,
`Idempotency-Key: <outbox key>` and `{"to": …, "text": …, "reference": <case number>}`.
A 2xx answer carries the provider's id as `{"id": …}` (or `message_id`). 429, 5xx and network
trouble are worth retrying; any other answer will not improve and is permanent. The same
idempotency key goes with every attempt, so a provider that already took the message does not
deliver it twice when a worker dies before recording the answer.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from bankdesk.intake.channels.sms.webhook import endpoint_secrets
from bankdesk.intake.errors import DeliveryFailed
from bankdesk.intake.models import ChannelEndpoint, OutboxMessage
from bankdesk.lib.errors import MalformedInput
from bankdesk.lib.json_input import json_input_parse

TIMEOUT_SECONDS = 15
ANSWER_MAX = 64 * 1024


def provider_url(endpoint: ChannelEndpoint | None) -> str:
    url = endpoint.settings.get("api_url", "") if endpoint is not None else ""
    return url if isinstance(url, str) and url.startswith(("https://", "http://")) else ""


def _provider_id(answer: bytes) -> str:
    try:
        data: Any = json_input_parse(answer or b"{}", max_size=ANSWER_MAX)
    except MalformedInput:
        data = {}
    if isinstance(data, dict):
        for name in ("id", "message_id"):
            value = data.get(name)
            if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
                return str(value)
    return ""


def provider_post(
    item: OutboxMessage, endpoint: ChannelEndpoint | None, body: dict[str, Any]
) -> str:
    """Send one message to the endpoint's provider; return the provider's id for it."""
    url = provider_url(endpoint)
    if endpoint is None or not url:
        raise DeliveryFailed(f"no {item.channel} provider is configured", permanent=True)
    api_key = endpoint_secrets(endpoint).get("api_key", "")
    request = urllib.request.Request(  # noqa: S310 - an http(s) URL an admin configured
        url,
        data=json.dumps(body, ensure_ascii=False).encode(),
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "Accept": "application/json",
            "Authorization": f"Bearer {api_key}",
            "Idempotency-Key": item.idempotency_key,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            answer = response.read(ANSWER_MAX)
    except urllib.error.HTTPError as exc:
        retry = exc.code == 429 or exc.code >= 500
        raise DeliveryFailed(f"the provider answered HTTP {exc.code}", permanent=not retry) from exc
    except (OSError, ValueError) as exc:  # refused, reset, timed out, bad TLS
        raise DeliveryFailed(f"the provider could not be reached: {exc}") from exc
    return _provider_id(answer) or item.idempotency_key
