"""Reads for customers."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from bankdesk.customers.choices import IdentityKind
from bankdesk.customers.errors import InvalidIdentity
from bankdesk.customers.models import Customer, Holding, Identity
from bankdesk.customers.normalise import identity_blind_index


def customer_queryset() -> QuerySet[Customer]:
    return Customer.objects.prefetch_related(
        Prefetch("identities", queryset=Identity.objects.order_by("kind", "id")),
        Prefetch("holdings", queryset=Holding.objects.order_by("kind", "id")),
    )


def customer_get(*, customer_id: int) -> Customer | None:
    return customer_queryset().filter(pk=customer_id).first()


def customer_by_identity(*, kind: str, value: str) -> Customer | None:
    try:
        lookup = identity_blind_index(kind, value)
    except InvalidIdentity:
        return None
    # The customer's own row: a channel matching a sender needs no more, and their identities
    # and holdings would be read and decrypted for nothing on every inbound message.
    return Customer.objects.filter(identities__kind=kind, identities__lookup=lookup).first()


def customer_search(
    *,
    phone: str | None = None,
    email: str | None = None,
    customer_number: str | None = None,
    limit: int = 50,
    queryset: QuerySet[Customer] | None = None,
) -> list[Customer]:
    """Customers matching every given key exactly (no fuzzy search over personal data)."""
    queryset = customer_queryset() if queryset is None else queryset
    if customer_number:
        queryset = queryset.filter(customer_number=customer_number.strip())
    for kind, raw in ((IdentityKind.PHONE, phone), (IdentityKind.EMAIL, email)):
        if raw:
            lookup = identity_blind_index(kind, raw)
            queryset = queryset.filter(
                pk__in=Identity.objects.filter(kind=kind, lookup=lookup).values("customer_id")
            )
    return list(queryset.order_by("-id")[:limit])
