"""The Message-IDs of the bank's e-mail replies, and what a customer's answer tells by echoing
them back in In-Reply-To and References.

`<bd.C20260000123.k4mzq7c2xw5ya3rb.<outbox key>@bank.example>`: the reply token
(intake.reply_tokens) proves which case the answer continues, and the outbox message's
idempotency key keeps the id the same on every attempt at one reply. Replies sent before reply
tokens carry the key alone (`<outbox key>@bank.example>`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bankdesk.intake.reply_tokens import TOKEN

PREFIX = "bd"
_REPLY_ID = re.compile(rf"(?:{PREFIX}\.({TOKEN.pattern})\.)?([0-9a-f]{{32}})@[^@\s]+")


def reply_message_id(*, key: str, token: str, domain: str) -> str:
    """A reply's Message-ID, without angle brackets; the token only when it is one."""
    if TOKEN.fullmatch(token):
        return f"{PREFIX}.{token}.{key}@{domain}"
    return f"{key}@{domain}"


def answered_replies(replies_to: Iterable[str]) -> tuple[list[str], list[str]]:
    """The reply tokens and the outbox keys in the ids a mail answers, nearest first."""
    tokens: list[str] = []
    keys: list[str] = []
    for answered in replies_to:
        match = _REPLY_ID.fullmatch(answered)
        if match is None:
            continue
        token, key = match[1], match[4]
        if token:
            tokens.append(token)
        keys.append(key)
    return tokens, keys
