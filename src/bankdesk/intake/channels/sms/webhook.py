"""The generic signed-webhook contract shared by SMS and social providers.

A provider POSTs a JSON object to `/intake/<channel>/<endpoint code>/` with the header
`X-Bankdesk-Signature: sha256=<hex>`, the HMAC-SHA256 of the raw request body under the
endpoint's `secrets["webhook_secret"]`. A request that does not verify is refused with 403 and
nothing from it is kept; a body that cannot be read is refused with 400, naming the field at
fault. The provider retries with the same message id until it gets a 2xx, and a retry of a
message bankdesk already took is answered 200 again ("duplicate"), so nothing is lost or doubled.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.http import HttpRequest, JsonResponse

from bankdesk.intake.errors import BadSignature, EndpointNotFound, MalformedPayload
from bankdesk.intake.models import ChannelEndpoint
from bankdesk.intake.services import IntakeResult
from bankdesk.lib.api import aware_in_range
from bankdesk.lib.errors import BankdeskError
from bankdesk.lib.json_input import json_input_parse
from bankdesk.lib.text import clean_text, is_unusable

SIGNATURE_HEADER = "X-Bankdesk-Signature"
SIGNATURE_PREFIX = "sha256="
BODY_MAX = 256 * 1024


def endpoint_secrets(endpoint: ChannelEndpoint) -> dict[str, Any]:
    """The endpoint's secrets as a dict; an unreadable secrets text counts as none."""
    try:
        data = json.loads(endpoint.secrets or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def webhook_endpoint(code: str, channel: str) -> ChannelEndpoint:
    endpoint = ChannelEndpoint.objects.filter(code=code, channel=channel, is_active=True).first()
    if endpoint is None:
        raise EndpointNotFound(f"no active {channel} endpoint {code!r}", field="code")
    return endpoint


def signature_for(secret: str, body: bytes) -> str:
    """The header value a provider sends for `body`: what our tests and fakes sign with."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_PREFIX}{digest}"


def signature_verify(endpoint: ChannelEndpoint, request: HttpRequest) -> None:
    """Refuse a request not signed with the endpoint's webhook secret. An endpoint without a
    secret accepts nothing: an unsigned webhook would let anyone write into customers' cases."""
    secret = endpoint_secrets(endpoint).get("webhook_secret")
    if not isinstance(secret, str) or not secret:
        raise BadSignature("this endpoint has no webhook secret configured")
    given = request.headers.get(SIGNATURE_HEADER, "")
    if not hmac.compare_digest(given.encode(), signature_for(secret, request.body).encode()):
        raise BadSignature(f"the {SIGNATURE_HEADER} header does not match the body")


def payload_object(request: HttpRequest) -> dict[str, Any]:
    data = json_input_parse(request.body, max_size=BODY_MAX)
    if not isinstance(data, dict):
        raise MalformedPayload("the body must be a JSON object")
    return data


def text_field(data: dict[str, Any], name: str, *, max_length: int, required: bool = True) -> str:
    """A string field, checked as every channel's text is: no controls, NFC, trimmed."""
    value = data.get(name)
    if value is None and not required:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # providers send numeric ids as numbers too
    if not isinstance(value, str):
        raise MalformedPayload(f"{name} must be a string", field=name)
    if is_unusable(value):
        raise MalformedPayload(f"{name} contains control characters", field=name)
    value = clean_text(value)
    if required and not value:
        raise MalformedPayload(f"{name} is required", field=name)
    if len(value) > max_length:
        raise MalformedPayload(f"{name} may be at most {max_length} characters", field=name)
    return value


def time_field(data: dict[str, Any], name: str) -> datetime | None:
    """An optional ISO 8601 time with an offset, stored in UTC."""
    raw = text_field(data, name, max_length=40, required=False)
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise MalformedPayload(f"{name} is not an ISO 8601 time", field=name) from exc
    try:
        return aware_in_range(value)
    except ValueError as exc:
        raise MalformedPayload(f"{name} {exc}", field=name) from exc


def error_response(exc: BankdeskError) -> JsonResponse:
    return JsonResponse(exc.as_body(), status=exc.status, json_dumps_params={"ensure_ascii": False})


def intake_response(result: IntakeResult) -> JsonResponse:
    return JsonResponse(
        {
            "outcome": result.outcome,
            "case_number": result.case.number if result.case else None,
        }
    )


def signed_webhook(
    request: HttpRequest,
    code: str,
    channel: str,
    receive: Callable[[ChannelEndpoint, dict[str, Any]], IntakeResult],
) -> JsonResponse:
    """Verify, parse and hand one provider call to `receive`, answering in the error contract."""
    try:
        endpoint = webhook_endpoint(code, channel)
        signature_verify(endpoint, request)
        return intake_response(receive(endpoint, payload_object(request)))
    except BankdeskError as exc:
        return error_response(exc)
