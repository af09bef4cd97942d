"""Replies to WeChat customers after the 5-second window: the customer-service message API.

WeChat takes no idempotency key. A send whose answer is lost (a timeout after WeChat took it)
is retried by the outbox and may reach the customer twice; to keep that rare, only failures
that say the message was not taken (no connection, errcode -1, rate limits, an expired access
token) are retried, a definite errcode 0 is never resent, and the read timeout is generous.
The customer-service API also only reaches a customer within 48 hours of their last message
(errcode 45015): later replies fail permanently and need another channel.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from django.core.cache import cache

from bankdesk.intake.channels.base import ChannelAdapter
from bankdesk.intake.channels.wechat.endpoint import endpoint_secrets, wechat_api_base
from bankdesk.intake.errors import DeliveryFailed
from bankdesk.intake.models import ChannelEndpoint, OutboxMessage
from bankdesk.lib.channels import Channel
from bankdesk.lib.errors import MalformedInput
from bankdesk.lib.json_input import json_input_parse

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 15
# WeChat's answers are a few hundred bytes; read no more than this of one.
ANSWER_MAX = 64 * 1024
# Refresh a little before WeChat's 7200-second expiry, so no send races the deadline.
TOKEN_MARGIN_SECONDS = 300
# The access token is invalid or expired: fetch a new one and send again (nothing was sent).
TOKEN_ERRCODES = frozenset({40001, 40014, 42001})
# WeChat is busy or the account is over a quota: the message was not taken; later may work.
TRANSIENT_ERRCODES = frozenset({-1, 45009, 45011, 45047})


def _request_json(url: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """GET (or POST JSON to) WeChat's API and return its JSON answer; DeliveryFailed
    (transient) when the network or WeChat's server fails before answering."""
    if urllib.parse.urlsplit(url).scheme not in {"http", "https"}:
        raise DeliveryFailed("the WeChat API base URL must be http(s)", permanent=True)
    data = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(url, data=data, method="GET" if data is None else "POST")  # noqa: S310 - scheme checked above
    if data is not None:
        request.add_header("Content-Type", "application/json; charset=utf-8")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310  # nosec B310 - scheme checked above
            raw = response.read(ANSWER_MAX + 1)
    except urllib.error.HTTPError as exc:
        raise DeliveryFailed(
            f"WeChat answered HTTP {exc.code}", permanent=400 <= exc.code < 500 and exc.code != 429
        ) from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise DeliveryFailed(f"WeChat could not be reached: {exc}") from exc
    try:
        answer = json_input_parse(raw, max_size=ANSWER_MAX)
    except MalformedInput as exc:
        raise DeliveryFailed(f"WeChat's answer cannot be read: {exc.message}") from exc
    if not isinstance(answer, dict):
        raise DeliveryFailed("WeChat's answer is not a JSON object")
    return answer


def _errcode(answer: dict[str, Any]) -> int:
    try:
        return int(answer.get("errcode", 0))
    except (TypeError, ValueError):
        return -1


class WeChatAdapter(ChannelAdapter):
    """Sends staff replies as customer-service text messages from the official account."""

    channel = Channel.WECHAT

    def _credentials(self, endpoint: ChannelEndpoint | None) -> tuple[ChannelEndpoint, str, str]:
        if endpoint is None:
            raise DeliveryFailed("no WeChat endpoint is configured", permanent=True)
        app_id = str(endpoint.settings.get("app_id") or "")
        app_secret = str(endpoint_secrets(endpoint).get("app_secret") or "")
        if not app_id or not app_secret:
            raise DeliveryFailed(
                f"WeChat endpoint {endpoint.code} needs settings.app_id and secrets.app_secret",
                permanent=True,
            )
        return endpoint, app_id, app_secret

    @staticmethod
    def _cache_key(endpoint: ChannelEndpoint, app_id: str) -> str:
        return f"wechat:access-token:{endpoint.pk}:{app_id}"

    def access_token(self, endpoint: ChannelEndpoint | None, *, refresh: bool = False) -> str:
        """The account's API access token, fetched once and cached until shortly before expiry.

        The cache is per process unless a shared cache is configured; every fetch gives a new
        token and WeChat keeps the previous one valid for five minutes, so workers do not
        lock each other out.
        """
        endpoint, app_id, app_secret = self._credentials(endpoint)
        key = self._cache_key(endpoint, app_id)
        if not refresh:
            cached = cache.get(key)
            if isinstance(cached, str) and cached:
                return cached
        query = urllib.parse.urlencode(
            {"grant_type": "client_credential", "appid": app_id, "secret": app_secret}
        )
        answer = _request_json(f"{wechat_api_base(endpoint)}/cgi-bin/token?{query}")
        token = answer.get("access_token")
        if not isinstance(token, str) or not token:
            errcode = _errcode(answer)
            raise DeliveryFailed(
                f"WeChat gave no access token: errcode {errcode} {answer.get('errmsg', '')}",
                permanent=errcode not in TRANSIENT_ERRCODES,
            )
        try:
            expires_in = int(answer.get("expires_in", 7200))
        except (TypeError, ValueError):
            expires_in = 7200
        cache.set(key, token, timeout=max(expires_in - TOKEN_MARGIN_SECONDS, 60))
        return token

    def _send(self, endpoint: ChannelEndpoint, token: str, body: dict[str, Any]) -> dict[str, Any]:
        query = urllib.parse.urlencode({"access_token": token})
        url = f"{wechat_api_base(endpoint)}/cgi-bin/message/custom/send?{query}"
        return _request_json(url, body)

    def deliver(self, item: OutboxMessage, endpoint: ChannelEndpoint | None) -> str:
        """Send one reply; return WeChat's msgid when it gives one, else the idempotency key."""
        endpoint, _, _ = self._credentials(endpoint)
        text = str(item.payload_data().get("text") or "").strip()
        if not text:
            raise DeliveryFailed("the reply has no text", permanent=True)
        body = {"touser": item.recipient, "msgtype": "text", "text": {"content": text}}
        answer = self._send(endpoint, self.access_token(endpoint), body)
        if _errcode(answer) in TOKEN_ERRCODES:
            # The token expired early or another system fetched a new one; WeChat refused the
            # message, so sending again with a fresh token cannot duplicate it.
            answer = self._send(endpoint, self.access_token(endpoint, refresh=True), body)
        errcode = _errcode(answer)
        if errcode != 0:
            message = f"WeChat refused the message: errcode {errcode} {answer.get('errmsg', '')}"
            raise DeliveryFailed(message, permanent=errcode not in TRANSIENT_ERRCODES)
        return str(answer.get("msgid") or item.idempotency_key)
