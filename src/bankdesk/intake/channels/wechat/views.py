"""WeChat's calls to the bank's server: the URL check (GET) and customer messages (POST)."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from bankdesk.intake.channels.wechat.endpoint import wechat_endpoint_get, wechat_token
from bankdesk.intake.channels.wechat.inbound import wechat_message_receive
from bankdesk.intake.channels.wechat.protocol import (
    BODY_MAX_BYTES,
    message_parse,
    signature_verify,
)
from bankdesk.intake.errors import MalformedPayload
from bankdesk.lib.errors import BankdeskError


def _error(exc: BankdeskError) -> HttpResponse:
    return HttpResponse(
        json.dumps(exc.as_body(), ensure_ascii=False),
        status=exc.status,
        content_type="application/json",
    )


def _body(request: HttpRequest) -> bytes:
    """The posted XML, refused before reading when it declares itself too large."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > BODY_MAX_BYTES:
        raise MalformedPayload("the WeChat message is too large", field="body")
    return request.body


def _answer(request: HttpRequest, code: str | None) -> HttpResponse:
    endpoint = wechat_endpoint_get(code)
    signature_verify(
        token=wechat_token(endpoint),
        signature=request.GET.get("signature", ""),
        timestamp=request.GET.get("timestamp", ""),
        nonce=request.GET.get("nonce", ""),
    )
    if request.method == "GET":
        # WeChat's server-URL check: echoing echostr proves we hold the token.
        return HttpResponse(request.GET.get("echostr", ""), content_type="text/plain")
    if request.GET.get("encrypt_type", "raw") != "raw":
        raise MalformedPayload("only WeChat's plaintext mode is supported", field="encrypt_type")
    reply = wechat_message_receive(message=message_parse(_body(request)), endpoint=endpoint)
    if reply is None:
        return HttpResponse("success", content_type="text/plain")
    return HttpResponse(reply.encode("utf-8"), content_type="application/xml; charset=utf-8")


@csrf_exempt  # WeChat cannot hold a CSRF token; every call is signed instead
@require_http_methods(["GET", "POST"])
def wechat_webhook(request: HttpRequest, code: str | None = None) -> HttpResponse:
    """The official account's server URL. Unsigned or stale calls get 403 and leave no trace;
    unreadable messages get 400; an account without a token gets 503."""
    try:
        return _answer(request, code)
    except BankdeskError as exc:
        return _error(exc)
