"""Writes for customers: the profile, the ways to reach them and what they hold."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, time

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from bankdesk.customers.choices import (
    HoldingKind,
    IdentityKind,
    Language,
    RevealField,
    Segment,
    Tier,
)
from bankdesk.customers.errors import (
    CustomerNumberTaken,
    IdentityTaken,
    InvalidHolding,
)
from bankdesk.customers.models import Customer, Holding, Identity
from bankdesk.customers.normalise import holding_reference_blind_index, identity_lookup
from bankdesk.lib.channels import Channel
from bankdesk.lib.errors import InvalidInput
from bankdesk.security.audit import audit_record
from bankdesk.security.crypto import keyring
from bankdesk.staff.models import User

_CUSTOMER_NUMBER = re.compile(r"^[A-Za-z0-9-]{4,32}$")
_LAST4 = re.compile(r"^[0-9]{4}$")


@dataclass(frozen=True)
class IdentityInput:
    kind: str
    value: str
    is_verified: bool = False


@dataclass(frozen=True)
class HoldingInput:
    kind: str
    product: str
    reference: str
    last4: str
    opened_on: date | None = None


def _check_choice(value: str, allowed: Iterable[str], field: str) -> None:
    if value not in allowed:
        raise InvalidInput(f"{field} must be one of {', '.join(allowed)}", field=field)


@transaction.atomic
def customer_create(
    *,
    customer_number: str,
    name: str,
    segment: str = Segment.RETAIL,
    tier: str = Tier.STANDARD,
    preferred_language: str = Language.ZH_HANS,
    preferred_channel: str = "",
    identities: Iterable[IdentityInput] = (),
    holdings: Iterable[HoldingInput] = (),
    is_provisional: bool = False,
    actor: User | None = None,
) -> Customer:
    """Register a customer with their identities and holdings, all or nothing."""
    if not _CUSTOMER_NUMBER.match(customer_number):
        raise InvalidInput(
            "customer number is 4–32 letters, digits or dashes", field="customer_number"
        )
    if not name.strip():
        raise InvalidInput("name is required", field="name")
    _check_choice(segment, Segment.values, "segment")
    _check_choice(tier, Tier.values, "tier")
    _check_choice(preferred_language, Language.values, "preferred_language")
    if preferred_channel:
        _check_choice(preferred_channel, Channel.values, "preferred_channel")
    if Customer.objects.filter(customer_number=customer_number).exists():
        raise CustomerNumberTaken(
            f"customer number {customer_number} is already registered", field="customer_number"
        )
    customer = Customer.objects.create(
        customer_number=customer_number,
        name=name.strip(),
        segment=segment,
        tier=tier,
        preferred_language=preferred_language,
        preferred_channel=preferred_channel,
        is_provisional=is_provisional,
    )
    audit_record(
        actor=actor,
        action="customer.create",
        target=customer,
        fields=["customer_number", "name", "segment", "tier", "preferred_language"],
    )
    for identity in identities:
        identity_add(customer=customer, identity=identity, actor=actor)
    for holding in holdings:
        holding_add(customer=customer, holding=holding, actor=actor)
    return customer


@transaction.atomic
def identity_add(*, customer: Customer, identity: IdentityInput, actor: User | None) -> Identity:
    _check_choice(identity.kind, IdentityKind.values, "kind")
    canonical = identity_lookup(identity.kind, identity.value)
    lookup = keyring().blind_index(identity.kind, canonical)
    existing = Identity.objects.filter(kind=identity.kind, lookup=lookup).first()
    if existing is not None:
        if existing.customer_id == customer.pk:
            return existing
        raise IdentityTaken(
            f"this {identity.kind} already belongs to another customer", field=identity.kind
        )
    try:
        with transaction.atomic():
            created = Identity.objects.create(
                customer=customer,
                kind=identity.kind,
                value=canonical,
                lookup=lookup,
                is_verified=identity.is_verified,
            )
    except IntegrityError as exc:  # a concurrent registration of the same identity won
        raise IdentityTaken(
            f"this {identity.kind} already belongs to another customer", field=identity.kind
        ) from exc
    audit_record(
        actor=actor,
        action="identity.add",
        target=customer,
        fields=[f"identity.{identity.kind}"],
    )
    return created


@transaction.atomic
def holding_add(*, customer: Customer, holding: HoldingInput, actor: User | None) -> Holding:
    _check_choice(holding.kind, HoldingKind.values, "kind")
    if not _LAST4.match(holding.last4):
        raise InvalidHolding("last4 is exactly four digits", field="last4")
    reference = holding.reference.strip()
    # A reference is the core system's key, never a card number: reject anything card-shaped.
    if not reference or re.fullmatch(r"[0-9 -]{12,}", reference):
        raise InvalidHolding(
            "reference must be the core system's reference, not a card or account number",
            field="reference",
        )
    reference_lookup = holding_reference_blind_index(holding.kind, reference)
    if Holding.objects.filter(kind=holding.kind, reference_lookup=reference_lookup).exists():
        raise InvalidHolding("this reference is already registered", field="reference")
    created = Holding.objects.create(
        customer=customer,
        kind=holding.kind,
        product=holding.product.strip(),
        reference=reference,
        reference_lookup=reference_lookup,
        last4=holding.last4,
        opened_on=holding.opened_on,
    )
    audit_record(
        actor=actor, action="holding.add", target=customer, fields=[f"holding.{holding.kind}"]
    )
    return created


@transaction.atomic
def customer_reveal(
    *, customer: Customer, field: str, reason: str, actor: User, holding_id: int | None = None
) -> list[str]:
    """The full values of one identifier, for a reason written to the audit chain."""
    reason = reason.strip()
    if len(reason) < 5:
        raise InvalidInput("say why you need the full value", field="reason")
    if field == RevealField.HOLDING_REFERENCE:
        holdings = customer.holdings.all()
        if holding_id is not None:
            holdings = holdings.filter(pk=holding_id)
        values = [h.reference for h in holdings]
        target = f"holding.{holding_id}" if holding_id else "holding.*"
    elif field in IdentityKind.values:
        values = [i.value for i in customer.identities.filter(kind=field).order_by("id")]
        target = f"identity.{field}"
    else:
        raise InvalidInput("unknown field", field="field")
    audit_record(
        actor=actor, action="customer.reveal", target=customer, fields=[target], reason=reason
    )
    return values


@transaction.atomic
def customer_contact_hours_set(
    *, customer: Customer, start: time | None, end: time | None, actor: User
) -> Customer:
    """When the customer likes to be called (both or neither; "from 18:00 until 20:00")."""
    if (start is None) != (end is None):
        raise InvalidInput(_("Give both times, or neither."), field="contact_until")
    if start is not None and start == end:
        raise InvalidInput(
            _("The hours must not start and end at the same time."), field="contact_until"
        )
    customer.contact_from, customer.contact_until = start, end
    customer.save(update_fields=["contact_from", "contact_until", "updated_at"])
    audit_record(
        actor=actor,
        action="customer.update",
        target=customer,
        fields=["contact_from", "contact_until"],
    )
    return customer
