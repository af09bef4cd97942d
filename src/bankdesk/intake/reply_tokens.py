"""Reply tokens: proof, carried back in a customer's answer, that it answers a reply the bank
sent about one case to one of that customer's addresses.

Case numbers are sequential and printed on every reply, so quoting one proves nothing. A reply
token is the case number and a keyed HMAC over the case and the blind index of the address the
reply went to: nobody without the bank's secret key can make one, one case's token is worthless
on another, and at 80 bits it is short enough to ride in the Message-ID of the bank's mail, which
mail programs echo back in In-Reply-To and References.

The key is Django's SECRET_KEY (BANKDESK_SECRET_KEY) under a salt of its own, so it signs nothing
else; tokens signed under a key in SECRET_KEY_FALLBACKS still verify while a new key rolls out.
"""

from __future__ import annotations

import base64
import re

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

from bankdesk.customers.models import Identity
from bankdesk.tickets.models import Case

SALT = "bankdesk.intake.reply_token"
SIGNATURE_LENGTH = 16  # base32 characters: 80 bits
# C20260000123.k4mzq7c2xw5ya3rb — letters, digits and a dot: safe inside a msg-id.
TOKEN = re.compile(r"(C\d{11})\.([a-z2-7]{16})")


def _signature(case_id: int, recipient_lookup: str, secret: str | bytes) -> str:
    digest = salted_hmac(
        SALT, f"{case_id}\x1f{recipient_lookup}", secret=secret, algorithm="sha256"
    ).digest()
    return base64.b32encode(digest).decode("ascii").lower()[:SIGNATURE_LENGTH]


def reply_token_issue(*, case: Case, recipient_lookup: str) -> str:
    """The token for a reply on `case` sent to the address whose blind index (the identity's
    `lookup`) is `recipient_lookup`."""
    return f"{case.number}.{_signature(case.pk, recipient_lookup, settings.SECRET_KEY)}"


def reply_token_number(token: str) -> str:
    """The case number a well-formed token names, genuine or not ("" when it is not a token)."""
    match = TOKEN.fullmatch(token)
    return match[1] if match else ""


def reply_token_case(token: str) -> Case | None:
    """The case a token was issued for, when it is genuine: signed for that case and one of the
    addresses on its customer's file. A token for an address the customer no longer has, or
    for a case since given to someone else, proves nothing any more."""
    match = TOKEN.fullmatch(token)
    if match is None:
        return None
    case = Case.objects.filter(number=match[1]).first()
    if case is None or case.customer_id is None:
        return None
    lookups = Identity.objects.filter(customer_id=case.customer_id).values_list("lookup", flat=True)
    secrets = [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
    genuine = False
    for lookup in lookups:
        for secret in secrets:
            # Every candidate is compared, in constant time: how long this takes says nothing
            # about which address, or how much of the signature, was right.
            genuine |= constant_time_compare(_signature(case.pk, lookup, secret), match[2])
    return case if genuine else None
