"""Which official account a call is for, and that account's token, keys and API base URL.

An endpoint's settings hold {"app_id", "original_id", optionally "api_base" and
"encrypt_mode"}; its encrypted secrets hold {"token", "app_secret", and in safe or compatible
mode "encoding_aes_key"}. The demo bank's account may leave the token out: it is then read
from BANKDESK_WECHAT_TOKEN at each request, so the operator sets it in one place.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.conf import settings
from django.db import models

from bankdesk.intake.channels.wechat.crypto import MessageCipher
from bankdesk.intake.errors import EndpointNotFound
from bankdesk.intake.models import ChannelEndpoint
from bankdesk.lib.channels import Channel
from bankdesk.lib.errors import BankdeskError

logger = logging.getLogger(__name__)


class ChannelNotConfigured(BankdeskError):
    """The account exists but lacks what it needs to verify or send (a token, an app secret):
    the operator must finish setting it up, so WeChat is told to try again later."""

    status = 503
    code = "channel_not_configured"


class EncryptMode(models.TextChoices):
    """The message encryption mode set for the account in WeChat's console (消息加解密方式)."""

    PLAINTEXT = "plaintext", "明文模式 plaintext"
    # While an account moves to safe mode: WeChat sends both; bankdesk opens the sealed part.
    COMPATIBLE = "compatible", "兼容模式 compatible"
    # Recommended: every message sealed, and its signature covers the message.
    SAFE = "safe", "安全模式 safe"


def endpoint_secrets(endpoint: ChannelEndpoint) -> dict[str, Any]:
    """The endpoint's decrypted secrets; empty when none are set or they are not a JSON object."""
    if not endpoint.secrets:
        return {}
    try:
        data = json.loads(endpoint.secrets)
    except ValueError:
        logger.warning("channel endpoint %s has secrets that are not JSON", endpoint.code)
        return {}
    return data if isinstance(data, dict) else {}


def wechat_endpoint_get(code: str | None) -> ChannelEndpoint:
    """The active WeChat endpoint by code, or the first active one for the default URL."""
    endpoints = ChannelEndpoint.objects.filter(channel=Channel.WECHAT, is_active=True)
    endpoint = (
        endpoints.order_by("id").first() if code is None else endpoints.filter(code=code).first()
    )
    if endpoint is None:
        raise EndpointNotFound("no such WeChat endpoint")
    return endpoint


def wechat_token(endpoint: ChannelEndpoint) -> str:
    """The server token WeChat signs with: the endpoint's own, else BANKDESK_WECHAT_TOKEN."""
    token = str(endpoint_secrets(endpoint).get("token") or settings.BANKDESK_WECHAT_TOKEN or "")
    if not token:
        raise ChannelNotConfigured(
            f"WeChat endpoint {endpoint.code} has no token: set it in the endpoint's secrets "
            "or in BANKDESK_WECHAT_TOKEN"
        )
    return token


def wechat_api_base(endpoint: ChannelEndpoint | None) -> str:
    """Where WeChat's API lives: the endpoint's own `api_base`, else BANKDESK_WECHAT_API_BASE."""
    configured = endpoint.settings.get("api_base") if endpoint is not None else None
    return str(configured or settings.BANKDESK_WECHAT_API_BASE).rstrip("/")


def encrypt_mode(endpoint: ChannelEndpoint) -> EncryptMode:
    """The account's encryption mode (settings "encrypt_mode"); plaintext when not set."""
    value = str(endpoint.settings.get("encrypt_mode") or EncryptMode.PLAINTEXT)
    if value not in EncryptMode.values:
        raise ChannelNotConfigured(
            f"WeChat endpoint {endpoint.code} has encrypt_mode {value!r}: use one of "
            + ", ".join(EncryptMode.values)
        )
    return EncryptMode(value)


def wechat_cipher(endpoint: ChannelEndpoint) -> MessageCipher:
    """What opens and seals the account's messages in safe and compatible mode."""
    if encrypt_mode(endpoint) == EncryptMode.PLAINTEXT:
        raise ChannelNotConfigured(
            f"WeChat sends endpoint {endpoint.code} encrypted messages but it is set to plaintext: "
            "set settings.encrypt_mode and secrets.encoding_aes_key as in WeChat's console"
        )
    key = str(endpoint_secrets(endpoint).get("encoding_aes_key") or "")
    try:
        return MessageCipher(
            encoding_aes_key=key, app_id=str(endpoint.settings.get("app_id") or "")
        )
    except ValueError as exc:
        raise ChannelNotConfigured(
            f"WeChat endpoint {endpoint.code} needs settings.app_id and the account's "
            f"EncodingAESKey in secrets.encoding_aes_key: {exc}"
        ) from exc
