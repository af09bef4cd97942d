"""WeChat's calls to the bank's server: the URL check (GET) and customer messages (POST)."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from bankdesk.intake.channels.wechat.crypto import message_signature_verify, sealed_reply
from bankdesk.intake.channels.wechat.endpoint import (
    EncryptMode,
    encrypt_mode,
    wechat_cipher,
    wechat_endpoint_get,
    wechat_token,
)
from bankdesk.intake.channels.wechat.inbound import wechat_message_receive
from bankdesk.intake.channels.wechat.protocol import (
    BODY_MAX_BYTES,
    message_parse,
    sealed_text,
    signature_verify,
)
from bankdesk.intake.channels.wechat.replay import signed_call_remember
from bankdesk.intake.errors import BadSignature, MalformedPayload
from bankdesk.intake.models import ChannelEndpoint
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


def _sealed_answer(
    request: HttpRequest, endpoint: ChannelEndpoint, token: str, body: bytes
) -> HttpResponse:
    """Safe and compatible mode: msg_signature covers the sealed message, so a replay cannot
    carry another message and the call needs no remembering; the reply is sealed too."""
    cipher = wechat_cipher(endpoint)
    sealed = sealed_text(body)
    message_signature_verify(
        token=token,
        msg_signature=request.GET.get("msg_signature", ""),
        timestamp=request.GET.get("timestamp", ""),
        nonce=request.GET.get("nonce", ""),
        encrypt=sealed,
    )
    reply = wechat_message_receive(message=message_parse(cipher.open(sealed)), endpoint=endpoint)
    if reply is None:
        return HttpResponse("success", content_type="text/plain")
    answer = sealed_reply(cipher=cipher, token=token, reply=reply)
    return HttpResponse(answer.encode("utf-8"), content_type="application/xml; charset=utf-8")


def _answer(request: HttpRequest, code: str | None) -> HttpResponse:
    endpoint = wechat_endpoint_get(code)
    token = wechat_token(endpoint)
    timestamp, nonce = request.GET.get("timestamp", ""), request.GET.get("nonce", "")
    signature_verify(
        token=token, signature=request.GET.get("signature", ""), timestamp=timestamp, nonce=nonce
    )
    if request.method == "GET":
        # WeChat's server-URL check: echoing echostr proves we hold the token.
        echostr = request.GET.get("echostr", "")
        signed_call_remember(
            endpoint=endpoint, timestamp=timestamp, nonce=nonce, content=echostr.encode()
        )
        return HttpResponse(echostr, content_type="text/plain")
    body = _body(request)
    encrypt_type = request.GET.get("encrypt_type", "raw")
    if encrypt_type == "aes":
        return _sealed_answer(request, endpoint, token, body)
    if encrypt_type != "raw":
        raise MalformedPayload("encrypt_type must be raw or aes", field="encrypt_type")
    if encrypt_mode(endpoint) == EncryptMode.SAFE:
        # A plaintext call to a safe-mode account is not from WeChat: its signature would not
        # cover the message.
        raise BadSignature("this official account takes only encrypted messages (safe mode)")
    signed_call_remember(endpoint=endpoint, timestamp=timestamp, nonce=nonce, content=body)
    reply = wechat_message_receive(message=message_parse(body), endpoint=endpoint)
    if reply is None:
        return HttpResponse("success", content_type="text/plain")
    return HttpResponse(reply.encode("utf-8"), content_type="application/xml; charset=utf-8")


@csrf_exempt  # WeChat cannot hold a CSRF token; every call is signed instead
@require_http_methods(["GET", "POST"])
def wechat_webhook(request: HttpRequest, code: str | None = None) -> HttpResponse:
    """The official account's server URL. Unsigned, stale or replayed calls get 403 and leave
    no trace; unreadable messages get 400; an account without its token (or, in safe mode, its
    EncodingAESKey) gets 503."""
    try:
        return _answer(request, code)
    except BankdeskError as exc:
        return _error(exc)
