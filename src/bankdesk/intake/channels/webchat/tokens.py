"""Who is chatting: signed chat-session ids, and the customer token the bank's app mints.

Customer token (for the bank's app to mint, so a signed-in customer is recognised in chat)::

    payload   = base64url(JSON {"customer_number": "6200001234", "exp": 1767225600})
    signature = base64url(HMAC-SHA256(secret, payload))        # over the base64url text
    token     = payload + "." + signature                      # base64url without "=" padding

`exp` is a Unix time in seconds (keep it short: minutes, not days); `customer_id` (bankdesk's
own id) may stand in for `customer_number`. The secret is `customer_token_secret` in the web
chat channel endpoint's secrets. A token that does not verify, has expired or names no
customer leaves the chat anonymous.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

from django.core import signing

from bankdesk.lib.errors import MalformedInput
from bankdesk.lib.json_input import json_input_parse

SESSION_SALT = "bankdesk.webchat.session"
# A customer who comes back within a day continues the same chat (and the same open case).
SESSION_MAX_AGE = 24 * 3600
TOKEN_MAX_LENGTH = 2048


class InvalidCustomerToken(ValueError):
    """The token is forged, malformed, out of date or names nobody: the chat stays anonymous."""


@dataclass(frozen=True)
class CustomerClaim:
    """What a verified customer token says: exactly one of the two is set."""

    customer_number: str = ""
    customer_id: int | None = None


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(secret: str, payload: str) -> str:
    return _b64encode(hmac.new(secret.encode(), payload.encode("ascii"), hashlib.sha256).digest())


def customer_token_mint(*, secret: str, customer_number: str, lifetime: int = 300) -> str:
    """A token as the bank's app makes one; used by tests, the demo page and the benchmark."""
    payload = _b64encode(
        json.dumps(
            {"customer_number": customer_number, "exp": int(time.time()) + lifetime}
        ).encode()
    )
    return f"{payload}.{_signature(secret, payload)}"


def customer_token_verify(token: str, *, secret: str, now: float | None = None) -> CustomerClaim:
    """The claim in a token; InvalidCustomerToken when it is forged, malformed or out of date."""
    if not secret:
        raise InvalidCustomerToken("no customer token secret is configured")
    if not isinstance(token, str) or len(token) > TOKEN_MAX_LENGTH or not token.isascii():
        raise InvalidCustomerToken("malformed token")
    if token.count(".") != 1:
        raise InvalidCustomerToken("malformed token")
    payload, signature = token.split(".")
    if not hmac.compare_digest(signature, _signature(secret, payload)):
        raise InvalidCustomerToken("bad signature")
    try:
        data = json_input_parse(_b64decode(payload), max_size=TOKEN_MAX_LENGTH)
    except (ValueError, MalformedInput) as exc:  # bad base64 is a ValueError
        raise InvalidCustomerToken("malformed payload") from exc
    if not isinstance(data, dict):
        raise InvalidCustomerToken("malformed payload")
    expires = data.get("exp")
    if not isinstance(expires, int | float) or expires < (now or time.time()):
        raise InvalidCustomerToken("expired")
    number, customer_id = data.get("customer_number"), data.get("customer_id")
    if isinstance(number, str) and number:
        return CustomerClaim(customer_number=number[:32])
    if isinstance(customer_id, int) and not isinstance(customer_id, bool):
        return CustomerClaim(customer_id=customer_id)
    raise InvalidCustomerToken("the token names no customer")


def chat_session_new() -> str:
    """A fresh session's thread id: random, so it cannot be guessed from another's."""
    return secrets.token_urlsafe(18)


def chat_session_sign(thread_id: str) -> str:
    """The session id handed to the browser: the thread id, signed and dated by bankdesk."""
    return signing.TimestampSigner(salt=SESSION_SALT).sign(thread_id)


def chat_session_resume(session_id: object) -> str | None:
    """The thread id of a session bankdesk issued within the last day, else None."""
    if not isinstance(session_id, str) or len(session_id) > 200:
        return None
    try:
        return signing.TimestampSigner(salt=SESSION_SALT).unsign(
            session_id, max_age=SESSION_MAX_AGE
        )
    except signing.BadSignature:
        return None
