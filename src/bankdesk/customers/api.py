"""Customers API: register, read and find customers."""

from __future__ import annotations

from datetime import date, datetime

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from bankdesk.customers import services
from bankdesk.customers.access import access_customer_by_id, customers_visible_to
from bankdesk.customers.choices import HoldingKind, IdentityKind, Language, Segment, Tier
from bankdesk.customers.models import Customer
from bankdesk.customers.selectors import customer_search
from bankdesk.lib.api import Id, RequiredText, Text, error_responses
from bankdesk.lib.channels import Channel
from bankdesk.staff.auth import request_staff

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


def customer_out(customer: Customer) -> dict[str, object]:
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
            {"kind": i.kind, "value": i.value, "is_verified": i.is_verified}
            for i in customer.identities.all()
        ],
        "holdings": [
            {
                "kind": h.kind,
                "product": h.product,
                "reference": h.reference,
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
    request_staff(request)
    customer = services.customer_create(
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
    return Status(201, customer_out(access_customer_by_id(request_staff(request), customer.pk)))


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
    return [customer_out(customer) for customer in found]


@router.get(
    "/{customer_id}",
    response={200: CustomerOut, **error_responses(404)},
    summary="One customer",
)
def customer_get(request: HttpRequest, customer_id: Id) -> dict[str, object]:
    return customer_out(access_customer_by_id(request_staff(request), customer_id))
