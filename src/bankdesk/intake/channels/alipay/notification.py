"""Alipay's notifications to the life account: read, verify, and turn a message into a case.

Alipay posts each notification form-encoded (some gateways relay it as JSON): `notify_id`,
`msg_method`, `app_id`, `sign_type`, `sign` and the message itself as a JSON `biz_content`:
{"msg_id", "from_user_id", "msg_type", "content", "create_time"}. It expects the bare text
"success" back and retries until it gets it, so a message seen twice is taken once (by msg_id).
There is no replay window: Alipay's retries span hours, and a replayed message is a duplicate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import BadRequest, SuspiciousOperation
from django.http import HttpRequest
from django.http.multipartparser import MultiPartParserError

from bankdesk.customers.choices import IdentityKind
from bankdesk.intake.channels.alipay.endpoint import alipay_public_key
from bankdesk.intake.channels.alipay.signing import rsa2_verify
from bankdesk.intake.channels.base import InboundMessage
from bankdesk.intake.errors import BadSignature, MalformedPayload
from bankdesk.intake.models import ChannelEndpoint
from bankdesk.intake.services import IntakeResult, inbound_receive
from bankdesk.lib.channels import Channel
from bankdesk.lib.json_input import json_input_parse

BODY_MAX_BYTES = 64 * 1024


@dataclass(frozen=True)
class AlipayNotification:
    params: dict[str, str]
    biz: dict[str, Any]


def _params(request: HttpRequest) -> dict[str, str]:
    """The notification's parameters, from a form body or a JSON object of strings."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > BODY_MAX_BYTES or len(request.body) > BODY_MAX_BYTES:
        raise MalformedPayload("the Alipay notification is too large", field="body")
    if request.content_type == "application/json":
        data = json_input_parse(request.body, max_size=BODY_MAX_BYTES)
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise MalformedPayload("the Alipay notification must be an object of strings")
        return data
    try:
        form = request.POST
    except (BadRequest, SuspiciousOperation, MultiPartParserError) as exc:
        # Not UTF-8, too many fields, a broken multipart body: Django's own page would answer
        # outside the error contract Alipay's retries and the bank's monitoring read.
        raise MalformedPayload(f"the Alipay notification cannot be read: {exc}") from exc
    if any(len(values) > 1 for _, values in form.lists()):
        raise MalformedPayload("a parameter appears twice in the Alipay notification")
    return {key: form[key] for key in form}


def notification_read(request: HttpRequest, endpoint: ChannelEndpoint) -> AlipayNotification:
    """The verified notification: 403 unless Alipay signed it with RSA2, before anything else
    is looked at; 400 when the signed content is not a notification bankdesk can read."""
    params = _params(request)
    if params.get("sign_type", "RSA2") != "RSA2":
        raise BadSignature("only RSA2 signatures are accepted")
    if not rsa2_verify(params, alipay_public_key(endpoint)):
        raise BadSignature("the Alipay signature does not verify")
    app_id = str(endpoint.settings.get("app_id") or "")
    if app_id and params.get("app_id") != app_id:
        raise MalformedPayload("the notification is for another Alipay app", field="app_id")
    biz = json_input_parse(
        params.get("biz_content") or "{}", max_size=BODY_MAX_BYTES, field="biz_content"
    )
    if not isinstance(biz, dict):
        raise MalformedPayload("biz_content is not a JSON object", field="biz_content")
    return AlipayNotification(params=params, biz=biz)


def _text(biz: dict[str, Any]) -> str:
    kind = str(biz.get("msg_type") or "text").lower()
    if kind == "text":
        return str(biz.get("content") or "")
    if kind == "image":
        return f"[图片 Image] MediaId: {biz.get('media_id', '')}"
    return f"[{kind}] 暂不支持的消息类型 unsupported message type"


def notification_receive(
    notification: AlipayNotification, endpoint: ChannelEndpoint
) -> IntakeResult | None:
    """Put a customer's message on a case; other notifications (follows, menu clicks) open
    none, because there is nothing for an agent to answer."""
    biz = notification.biz
    if str(biz.get("msg_type") or "").lower() == "event":
        return None
    msg_id, user_id = str(biz.get("msg_id") or ""), str(biz.get("from_user_id") or "")
    if not msg_id or not user_id:
        raise MalformedPayload("the message has no msg_id or from_user_id", field="biz_content")
    return inbound_receive(
        InboundMessage(
            channel=Channel.ALIPAY,
            external_id=msg_id,
            text=_text(biz),
            sender_kind=IdentityKind.ALIPAY_USER_ID,
            sender_value=user_id,
            thread_id=user_id,
            endpoint_id=endpoint.pk,
            metadata={"notify_id": notification.params.get("notify_id", "")},
        )
    )
