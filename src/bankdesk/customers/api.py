"""Customers API: register, read and find customers."""

from __future__ import annotations

from datetime import date, datetime

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from bankdesk.customers import services
from bankdesk.customers.access import (
    access_customer_by_id,
    customers_visible_to,
)
from bankdesk.customers.choices import (
    HoldingKind,
    IdentityKind,
    Language,
    RevealField,
    Segment,
    Tier,
)
from bankdesk.customers.masking import holding_reference_shown, identity_shown
from bankdesk.customers.models import Customer
from bankdesk.customers.selectors import customer_search
from bankdesk.lib.api import Id, RequiredText, Text, error_responses
from bankdesk.lib.channels import Channel
from bankdesk.staff.auth import request_staff, require_perm
from bankdesk.staff.models import User

router = Router(tags=["customers"])


class IdentityIn(Schema):
    kind: IdentityKind
    value: RequiredText(200)  # type: ignore[valid-type]
    is_verified: bool = False


class HoldingIn(Schema):
    kind: HoldingKind
    product: RequiredText(120)  # type: ignore[valid-type]
    reference: RequiredText(64)  # type: ignore[valid-type]
    last4: str = Field(pattern=r"^[0-9]{4}$")
    opened_on: date | None = Field(default=None, ge=date(1900, 1, 1), le=date(2200, 12, 31))


class CustomerIn(Schema):
    customer_number: str = Field(pattern=r"^[A-Za-z0-9-]{4,32}$")
    name: RequiredText(200)  # type: ignore[valid-type]
    segment: Segment = Segment.RETAIL
    tier: Tier = Tier.STANDARD
    preferred_language: Language = Language.ZH_HANS
    preferred_channel: Channel | None = None
    identities: list[IdentityIn] = Field(default_factory=list, max_length=20)
    holdings: list[HoldingIn] = Field(default_factory=list, max_length=50)


class IdentityOut(Schema):
    kind: str
    value: str
    is_verified: bool


class HoldingOut(Schema):
    id: int
    kind: str
    product: str
    reference: str
    last4: str
    status: str
    opened_on: date | None


class CustomerOut(Schema):
    id: int
    customer_number: str
    name: str
    segment: str
    tier: str
    preferred_language: str
    preferred_channel: str | None
    is_provisional: bool
    created_at: datetime
    identities: list[IdentityOut]
    holdings: list[HoldingOut]


class CustomerSearch(Schema):
    phone: Text(40) | None = None  # type: ignore[valid-type]
    email: Text(254) | None = None  # type: ignore[valid-type]
    customer_number: Text(32) | None = None  # type: ignore[valid-type]
    limit: int = Field(default=50, ge=1, le=200)


def customer_out(customer: Customer, viewer: User) -> dict[str, object]:
    """A customer as `viewer` may see them: identifiers masked by role."""
    return {
        "id": customer.pk,
        "customer_number": customer.customer_number,
        "name": customer.name,
        "segment": customer.segment,
        "tier": customer.tier,
        "preferred_language": customer.preferred_language,
        "preferred_channel": customer.preferred_channel or None,
        "is_provisional": customer.is_provisional,
        "created_at": customer.created_at,
        "identities": [
            {
                "kind": i.kind,
                "value": identity_shown(viewer, i.kind, i.value),
                "is_verified": i.is_verified,
            }
            for i in customer.identities.all()
        ],
        "holdings": [
            {
                "kind": h.kind,
                "product": h.product,
                "id": h.pk,
                "reference": holding_reference_shown(viewer, h.reference),
                "last4": h.last4,
                "status": h.status,
                "opened_on": h.opened_on,
            }
            for h in customer.holdings.all()
        ],
    }


@router.post(
    "",
    response={201: CustomerOut, **error_responses(409)},
    summary="Register a customer with identities and holdings",
)
def customer_create(request: HttpRequest, payload: CustomerIn) -> Status[dict[str, object]]:
    user = request_staff(request)
    require_perm(user, "customers.add_customer")
    customer = services.customer_create(
        actor=user,
        customer_number=payload.customer_number,
        name=payload.name,
        segment=payload.segment,
        tier=payload.tier,
        preferred_language=payload.preferred_language,
        preferred_channel=payload.preferred_channel or "",
        identities=[
            services.IdentityInput(kind=i.kind, value=i.value, is_verified=i.is_verified)
            for i in payload.identities
        ],
        holdings=[
            services.HoldingInput(
                kind=h.kind,
                product=h.product,
                reference=h.reference,
                last4=h.last4,
                opened_on=h.opened_on,
            )
            for h in payload.holdings
        ],
    )
    return Status(201, customer_out(access_customer_by_id(user, customer.pk), user))


@router.get(
    "",
    response={200: list[CustomerOut], **error_responses()},
    summary="Find customers by phone, e-mail or customer number (exact); newest first",
)
def customer_list(request: HttpRequest, filters: Query[CustomerSearch]) -> list[dict[str, object]]:
    user = request_staff(request)
    found = customer_search(
        phone=filters.phone,
        email=filters.email,
        customer_number=filters.customer_number,
        limit=filters.limit,
        queryset=customers_visible_to(user),
    )
    return [customer_out(customer, user) for customer in found]


@router.get(
    "/{customer_id}",
    response={200: CustomerOut, **error_responses(404)},
    summary="One customer",
)
def customer_get(request: HttpRequest, customer_id: Id) -> dict[str, object]:
    user = request_staff(request)
    return customer_out(access_customer_by_id(user, customer_id), user)


class RevealIn(Schema):
    field: RevealField
    holding_id: Id | None = None
    reason: RequiredText(500) = Field(min_length=5)  # type: ignore[valid-type]


class RevealOut(Schema):
    field: str
    values: list[str]


@router.post(
    "/{customer_id}/reveal",
    response={200: RevealOut, **error_responses(404)},
    summary="Show a customer's full identifier, for a stated reason (audited)",
)
def customer_reveal(request: HttpRequest, customer_id: Id, payload: RevealIn) -> dict[str, object]:
    user = request_staff(request)
    customer = access_customer_by_id(user, customer_id)
    require_perm(user, "customers.reveal_customer")
    values = services.customer_reveal(
        customer=customer,
        field=payload.field,
        holding_id=payload.holding_id,
        reason=payload.reason,
        actor=user,
    )
    return {"field": payload.field, "values": values}
