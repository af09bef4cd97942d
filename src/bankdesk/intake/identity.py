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
from bankdesk.customers.models import Customer, Holding, Identity
from bankdesk.customers.selectors import customer_by_identity
from bankdesk.customers.services import IdentityInput, customer_create
from bankdesk.lib.errors import InvalidInput
from bankdesk.lib.masking import mask_identifier
from bankdesk.security.audit import audit_record
from bankdesk.staff.models import User
from bankdesk.tickets.models import Case

PROVISIONAL_PREFIX = "P"
PROVISIONAL_NAME_MAX = 120


def _provisional_number() -> str:
    return f"{PROVISIONAL_PREFIX}{secrets.token_hex(6).upper()}"


def _provisional_name(kind: str, value: str, name: str) -> str:
    """The name the contact gave, else its masked identifier: a provisional customer's name is
    shown to every agent, so it must not spell out a phone or an address."""
    return name.strip()[:PROVISIONAL_NAME_MAX] or MASKERS.get(kind, mask_identifier)(value)


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


@transaction.atomic
def customer_merge_provisional(
    *, source: Customer, target: Customer, actor: User, reason: str
) -> Customer:
    """Fold a provisional customer (a contact nobody had matched) into the real one: its
    identities and cases move, so the timeline is whole; the provisional record is deleted.
    Only a provisional customer can be folded, and never into itself; audited with the reason.
    """
    reason = reason.strip()
    if not reason:
        raise InvalidInput("say why these are the same person", field="reason")
    if source.pk == target.pk:
        raise InvalidInput("a customer cannot be merged into itself", field="into_customer_id")
    if not source.is_provisional:
        raise InvalidInput("only a provisional customer can be merged", field="customer_id")
    locked = {
        c.pk: c for c in Customer.objects.select_for_update().filter(pk__in=[source.pk, target.pk])
    }
    if len(locked) != 2:
        raise InvalidInput("the customer no longer exists", field="customer_id")
    kinds = sorted(set(Identity.objects.filter(customer=source).values_list("kind", flat=True)))
    moved_identities = Identity.objects.filter(customer=source).update(customer=target)
    moved_cases = Case.objects.filter(customer=source).update(customer=target)
    Holding.objects.filter(customer=source).update(customer=target)
    audit_record(
        actor=actor,
        action="customer.merge_provisional",
        target=target,
        fields=[f"identity.{kind}" for kind in kinds] + ["cases"],
        reason=f"{reason} — from {source.customer_number}: {moved_identities} identities, "
        f"{moved_cases} cases",
    )
    source.delete()
    return target
