"""Who wrote: the customer behind a phone, e-mail address, openid or Alipay id.

Lookups go through the blind indexes, never through readable values. A contact nobody knows
becomes a provisional customer, so every later message from it lands on the same timeline and
staff can merge it into the real customer once they know who it is.
"""

from __future__ import annotations

import secrets

from django.db import transaction

from bankdesk.customers.errors import IdentityTaken, InvalidIdentity
from bankdesk.customers.masking import MASKERS
from bankdesk.customers.models import Customer
from bankdesk.customers.selectors import customer_by_identity
from bankdesk.customers.services import IdentityInput, customer_create
from bankdesk.security.masking import mask_identifier

PROVISIONAL_PREFIX = "P"


def _provisional_number() -> str:
    return f"{PROVISIONAL_PREFIX}{secrets.token_hex(6).upper()}"


def _provisional_name(kind: str, value: str, name: str) -> str:
    """The name the contact gave, else its masked identifier: a provisional customer's name is
    shown to every agent, so it must not spell out a phone or an address."""
    return name.strip()[:120] or MASKERS.get(kind, mask_identifier)(value)


def customer_for_contact(*, kind: str, value: str, name: str = "") -> Customer | None:
    """The customer this contact belongs to, created as provisional when unknown.

    None when the channel gave no usable identity (an anonymous web chat, a malformed number).
    Two first messages from one new contact at once end on one customer: the identity's unique
    index lets only one provisional customer keep it, and the other writer finds that one.
    """
    if not kind or not value:
        return None
    found = customer_by_identity(kind=kind, value=value)
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return customer_create(
                customer_number=_provisional_number(),
                name=_provisional_name(kind, value, name),
                identities=[IdentityInput(kind=kind, value=value)],
                is_provisional=True,
            )
    except InvalidIdentity:
        return None
    except IdentityTaken:
        return customer_by_identity(kind=kind, value=value)
