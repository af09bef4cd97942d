"""Replies to Alipay customers: the life account's customer-service message API.

Every call is signed with the bank's RSA2 private key and posted to the endpoint's gateway
(settings["gateway"], Alipay's https://openapi.alipay.com/gateway.do in production, a local
fake in tests). The outbox's idempotency key travels as `out_biz_no` so a message can be
matched to its outbox entry on both sides; as with WeChat, a retry after a lost answer may
reach the customer twice, so only answers that say the message was not taken are retried.
Alipay's signature on its answer is not checked yet: the answer only decides sent or retry.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bankdesk.intake.channels.alipay.endpoint import bank_private_key
from bankdesk.intake.channels.alipay.signing import rsa2_sign
from bankdesk.intake.channels.base import ChannelAdapter
from bankdesk.intake.errors import DeliveryFailed
from bankdesk.intake.models import ChannelEndpoint, OutboxMessage
from bankdesk.lib.channels import Channel
from bankdesk.lib.errors import MalformedInput
from bankdesk.lib.json_input import json_input_parse

METHOD = "alipay.open.public.message.custom.send"
RESPONSE_KEY = METHOD.replace(".", "_") + "_response"
TIMEOUT_SECONDS = 15
# Alipay's answers are a few hundred bytes; read no more than this of one.
ANSWER_MAX = 64 * 1024
# Alipay's gateway reads timestamps in Beijing time.
ALIPAY_ZONE = ZoneInfo("Asia/Shanghai")
SUCCESS = "10000"
# "Service unavailable": Alipay did not process the call; later may work.
TRANSIENT_CODES = frozenset({"20000"})


def _post(gateway: str, params: dict[str, str]) -> dict[str, Any]:
    if urllib.parse.urlsplit(gateway).scheme not in {"http", "https"}:
        raise DeliveryFailed("the Alipay gateway URL must be http(s)", permanent=True)
    data = urllib.parse.urlencode(params).encode("utf-8")
    request = urllib.request.Request(gateway, data=data, method="POST")  # noqa: S310 - scheme checked above
    request.add_header("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310  # nosec B310 - scheme checked above
            raw = response.read(ANSWER_MAX + 1)
    except urllib.error.HTTPError as exc:
        raise DeliveryFailed(f"Alipay answered HTTP {exc.code}", permanent=exc.code < 500) from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise DeliveryFailed(f"Alipay could not be reached: {exc}") from exc
    try:
        answer = json_input_parse(raw, max_size=ANSWER_MAX)
    except MalformedInput as exc:
        raise DeliveryFailed(f"Alipay's answer cannot be read: {exc.message}") from exc
    node = answer.get(RESPONSE_KEY) if isinstance(answer, dict) else None
    if not isinstance(node, dict):
        raise DeliveryFailed("Alipay's answer has no response for the call")
    return node


class AlipayAdapter(ChannelAdapter):
    """Sends staff replies as text messages from the bank's Alipay life account."""

    channel = Channel.ALIPAY

    def deliver(self, item: OutboxMessage, endpoint: ChannelEndpoint | None) -> str:
        if endpoint is None:
            raise DeliveryFailed("no Alipay endpoint is configured", permanent=True)
        app_id = str(endpoint.settings.get("app_id") or "")
        gateway = str(endpoint.settings.get("gateway") or "")
        private_key = bank_private_key(endpoint)
        if not app_id or not gateway or private_key is None:
            raise DeliveryFailed(
                f"Alipay endpoint {endpoint.code} needs settings.app_id, settings.gateway and "
                "a readable secrets.private_key",
                permanent=True,
            )
        text = str(item.payload_data().get("text") or "").strip()
        if not text:
            raise DeliveryFailed("the reply has no text", permanent=True)
        biz = {
            "to_user_id": item.recipient,
            "msg_type": "text",
            "text": {"content": text},
            "out_biz_no": item.idempotency_key,
        }
        params = {
            "app_id": app_id,
            "method": METHOD,
            "format": "JSON",
            "charset": "utf-8",
            "sign_type": "RSA2",
            "timestamp": datetime.now(ALIPAY_ZONE).strftime("%Y-%m-%d %H:%M:%S"),
            "version": "1.0",
            "biz_content": json.dumps(biz, ensure_ascii=False, separators=(",", ":")),
        }
        params["sign"] = rsa2_sign(params, private_key)
        node = _post(gateway, params)
        code = str(node.get("code") or "")
        if code != SUCCESS:
            reason = (
                f"{code} {node.get('sub_code', '')} {node.get('sub_msg') or node.get('msg', '')}"
            )
            raise DeliveryFailed(
                f"Alipay refused the message: {reason.strip()}",
                permanent=code not in TRANSIENT_CODES,
            )
        return str(node.get("msg_id") or item.idempotency_key)
