"""The rest of the customer's profile: preferences, consents, links to other customers and the
life events the bank records. Every write is audited (field names, never values).

Consents are kept as a history: each grant or withdrawal is a new row, the newest per purpose
holds now. Without any row, service contact is allowed (it is part of the account contract)
and marketing and data sharing are not (they need the customer's yes).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time

from django.db import IntegrityError, transaction
from django.utils import timezone

from bankdesk.customers.choices import (
    AccessibilityNeed,
    ConsentPurpose,
    ConsentSource,
    Dialect,
    Language,
    LifeEventKind,
    LinkKind,
)
from bankdesk.customers.models import Consent, Customer, CustomerLink, LifeEvent
from bankdesk.lib.channels import Channel
from bankdesk.lib.errors import InvalidInput
from bankdesk.security.audit import audit_record
from bankdesk.staff.models import User

# What holds for a purpose the customer never spoke about.
CONSENT_DEFAULTS = {
    ConsentPurpose.SERVICE: True,
    ConsentPurpose.MARKETING: False,
    ConsentPurpose.DATA_SHARING: False,
}
BIRTH_YEAR_MIN = 1900
CONSENT_BATCH = 900


@dataclass(frozen=True)
class Preferences:
    language: str
    channel: str
    contact_from: time | None
    contact_until: time | None
    accessibility: tuple[str, ...]
    dialect: str
    birth_year: int | None = None


def _choice(value: str, allowed: Iterable[str], field: str) -> None:
    allowed = list(allowed)
    if value not in allowed:
        raise InvalidInput(f"{field} must be one of {', '.join(allowed)}", field=field)


@transaction.atomic
def customer_preferences_set(
    *, customer: Customer, preferences: Preferences, actor: User | None
) -> Customer:
    """Replace the customer's preferences (and year of birth), all of them at once."""
    _choice(preferences.language, Language.values, "preferred_language")
    if preferences.channel:
        _choice(preferences.channel, Channel.values, "preferred_channel")
    if preferences.dialect:
        _choice(preferences.dialect, Dialect.values, "dialect")
    for need in preferences.accessibility:
        _choice(need, AccessibilityNeed.values, "accessibility")
    if (preferences.contact_from is None) != (preferences.contact_until is None):
        raise InvalidInput(
            "give both ends of the contact hours, or neither",
            code="contact_hours_half",
            field="contact_from",
        )
    year = preferences.birth_year
    if year is not None and not BIRTH_YEAR_MIN <= year <= timezone.localdate().year:
        raise InvalidInput(
            "that is not a year of birth", code="birth_year_invalid", field="birth_year"
        )
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    locked.preferred_language = preferences.language
    locked.preferred_channel = preferences.channel
    locked.contact_from, locked.contact_until = preferences.contact_from, preferences.contact_until
    locked.dialect = preferences.dialect
    locked.accessibility = ",".join(dict.fromkeys(preferences.accessibility))
    locked.birth_year = year
    locked.save()
    audit_record(
        actor=actor,
        action="customer.preferences_set",
        target=locked,
        fields=[
            "preferred_language",
            "preferred_channel",
            "contact_from",
            "contact_until",
            "dialect",
            "accessibility",
            "birth_year",
        ],
    )
    return locked


@transaction.atomic
def consent_record(
    *,
    customer: Customer,
    purpose: str,
    granted: bool,
    source: str,
    actor: User | None,
    at: datetime | None = None,
) -> Consent:
    """The customer gave (or withdrew) their consent for one purpose."""
    _choice(purpose, ConsentPurpose.values, "purpose")
    _choice(source, ConsentSource.values, "source")
    # One writer per customer at a time, so two changes cannot both be "the newest".
    Customer.objects.select_for_update().filter(pk=customer.pk).first()
    consent = Consent.objects.create(
        customer=customer,
        purpose=purpose,
        granted=granted,
        source=source,
        recorded_at=at or timezone.now(),
        recorded_by=actor,
    )
    audit_record(
        actor=actor,
        action="customer.consent_granted" if granted else "customer.consent_withdrawn",
        target=consent,
        fields=["purpose", "source"],
    )
    return consent


def consents_now(customer_id: int) -> dict[str, Consent | None]:
    """The consent that holds for each purpose (None: never spoken about, the default holds)."""
    held: dict[str, Consent | None] = dict.fromkeys(ConsentPurpose.values)
    for consent in Consent.objects.filter(customer_id=customer_id).order_by("recorded_at", "id"):
        held[consent.purpose] = consent
    return held


def consent_allows(customer_id: int, purpose: str) -> bool:
    return bool(customers_allowing([customer_id], purpose))


def customers_allowing(customer_ids: Iterable[int], purpose: str) -> set[int]:
    """Which of these customers' consents allow `purpose` now (asked a batch at a time, so a
    whole bank's ids stay within what a statement may carry)."""
    ids = sorted(set(customer_ids))
    default = CONSENT_DEFAULTS[ConsentPurpose(purpose)]
    allowed: set[int] = set()
    for start in range(0, len(ids), CONSENT_BATCH):
        batch = ids[start : start + CONSENT_BATCH]
        newest: dict[int, bool] = {}
        rows = (
            Consent.objects.filter(customer_id__in=batch, purpose=purpose)
            .order_by("customer_id", "recorded_at", "id")
            .values_list("customer_id", "granted")
        )
        for customer_id, granted in rows:
            newest[customer_id] = granted
        allowed.update(pk for pk in batch if newest.get(pk, default))
    return allowed


@transaction.atomic
def customer_link_add(
    *, customer: Customer, other: Customer, kind: str, actor: User | None
) -> CustomerLink:
    _choice(kind, LinkKind.values, "kind")
    if customer.pk == other.pk:
        raise InvalidInput("a customer cannot be linked to themselves", field="other")
    try:
        with transaction.atomic():
            link = CustomerLink.objects.create(customer=customer, other=other, kind=kind)
    except IntegrityError as exc:
        raise InvalidInput("these two are already linked so", field="kind") from exc
    audit_record(actor=actor, action="customer.link_added", target=link, fields=["kind"])
    return link


@transaction.atomic
def life_event_record(
    *, customer: Customer, kind: str, occurred_on: date, actor: User | None
) -> LifeEvent:
    _choice(kind, LifeEventKind.values, "kind")
    if occurred_on > timezone.localdate():
        raise InvalidInput(
            "a life event is recorded once it has happened",
            code="life_event_in_future",
            field="occurred_on",
        )
    event = LifeEvent.objects.create(
        customer=customer, kind=kind, occurred_on=occurred_on, recorded_by=actor
    )
    audit_record(actor=actor, action="customer.life_event_recorded", target=event, fields=["kind"])
    return event


def customer_links(customer: Customer) -> list[tuple[str, Customer]]:
    """Everyone linked to the customer, each with how (said from the customer's side)."""
    out: list[tuple[str, Customer]] = []
    for link in CustomerLink.objects.filter(customer=customer).select_related("other"):
        out.append((link.get_kind_display(), link.other))
    for link in CustomerLink.objects.filter(other=customer).select_related("customer"):
        out.append((f"← {link.get_kind_display()}", link.customer))
    return out
