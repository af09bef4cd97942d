"""The customer token, as the bank's app mints it from the documented format alone."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from bankdesk.intake.channels.webchat.tokens import (
    CustomerClaim,
    InvalidCustomerToken,
    chat_session_resume,
    chat_session_sign,
    customer_token_verify,
)

SECRET = "shared-with-the-bank-app"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def minted_by_the_bank(payload: dict[str, object] | bytes, secret: str = SECRET) -> str:
    body = _b64(payload if isinstance(payload, bytes) else json.dumps(payload).encode())
    signature = _b64(hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest())
    return f"{body}.{signature}"


def test_a_token_made_from_the_documented_format_verifies():
    token = minted_by_the_bank({"customer_number": "6200001234", "exp": 4_102_444_800})
    assert customer_token_verify(token, secret=SECRET) == CustomerClaim("6200001234")


def test_a_token_may_name_bankdesks_own_customer_id():
    token = minted_by_the_bank({"customer_id": 42, "exp": 4_102_444_800})
    assert customer_token_verify(token, secret=SECRET) == CustomerClaim(customer_id=42)


@pytest.mark.parametrize(
    ("token", "secret"),
    [
        (minted_by_the_bank({"customer_number": "1", "exp": 4_102_444_800}, "other"), SECRET),
        (minted_by_the_bank({"customer_number": "1", "exp": 1_000}), SECRET),
        (minted_by_the_bank({"customer_number": "1"}), SECRET),
        (minted_by_the_bank({"exp": 4_102_444_800}), SECRET),
        (minted_by_the_bank({"customer_id": True, "exp": 4_102_444_800}), SECRET),
        (minted_by_the_bank({"customer_number": "1", "exp": 4_102_444_800}), ""),
        (minted_by_the_bank(b'{"exp": 4102444800, "customer_id": ' + b"[" * 1400 + b"}"), SECRET),
        (minted_by_the_bank(b'{"exp": 4102444800, "exp": 4102444800, "customer_id": 1}'), SECRET),
        ("a.b.c", SECRET),
        ("x" * 5000, SECRET),
        ("载荷.签名", SECRET),
        (["not", "a", "string"], SECRET),
    ],
    ids=[
        "forged",
        "expired",
        "no-expiry",
        "no-customer",
        "bool-id",
        "no-secret",
        "nested",
        "key-twice",
        "shape",
        "huge",
        "not-ascii",
        "not-text",
    ],
)
def test_anything_else_is_refused(token, secret):
    with pytest.raises(InvalidCustomerToken):
        customer_token_verify(token, secret=secret)


def test_a_session_id_round_trips_and_a_tampered_one_does_not():
    session_id = chat_session_sign("thread-1")
    assert chat_session_resume(session_id) == "thread-1"
    assert chat_session_resume(session_id.replace("thread-1", "thread-2")) is None
    assert chat_session_resume(12) is None
