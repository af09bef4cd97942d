"""Which Alipay life account a call is for, and its keys.

An endpoint's settings hold {"app_id", "gateway", optionally "alipay_public_key"}; its
encrypted secrets hold {"private_key"} (the bank's RSA2 key that signs API calls) and may hold
"alipay_public_key" (Alipay's key that signs notifications; public, so settings also do).
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric import rsa

from bankdesk.intake.channels.alipay.signing import private_key_load, public_key_load
from bankdesk.intake.channels.wechat.endpoint import ChannelNotConfigured, endpoint_secrets
from bankdesk.intake.errors import EndpointNotFound
from bankdesk.intake.models import ChannelEndpoint
from bankdesk.lib.channels import Channel


def alipay_endpoint_get(code: str) -> ChannelEndpoint:
    endpoint = ChannelEndpoint.objects.filter(
        channel=Channel.ALIPAY, is_active=True, code=code
    ).first()
    if endpoint is None:
        raise EndpointNotFound("no such Alipay endpoint")
    return endpoint


def alipay_public_key(endpoint: ChannelEndpoint) -> rsa.RSAPublicKey:
    """Alipay's public key for this account; 503 until the operator has set a usable one."""
    key = endpoint_secrets(endpoint).get("alipay_public_key") or endpoint.settings.get(
        "alipay_public_key"
    )
    if not key:
        raise ChannelNotConfigured(f"Alipay endpoint {endpoint.code} has no alipay_public_key")
    try:
        return public_key_load(str(key))
    except ValueError as exc:
        raise ChannelNotConfigured(
            f"Alipay endpoint {endpoint.code} has an unreadable alipay_public_key"
        ) from exc


def bank_private_key(endpoint: ChannelEndpoint) -> rsa.RSAPrivateKey | None:
    """The bank's key that signs API calls, or None when it is missing or unreadable."""
    key = endpoint_secrets(endpoint).get("private_key")
    if not key:
        return None
    try:
        return private_key_load(str(key))
    except ValueError:
        return None
