"""What personalisation knows of each customer, read in bulk: the profile the segment rules,
the behaviour clusters and the next-best-actions are decided on. Every figure is over the
year before `now` (LOOKBACK), so a customer's segments follow what they do now."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.utils import timezone

from bankdesk.customers.choices import HoldingStatus, IdentityKind
from bankdesk.customers.models import Customer, Holding, Identity, LifeEvent
from bankdesk.lib.channels import Channel
from bankdesk.tickets.models import Case

LOOKBACK = timedelta(days=365)
BATCH = 1000
# Channels the customer serves themselves on; the rest need a person or a visit.
DIGITAL = frozenset({Channel.WEB_CHAT, Channel.APP, Channel.WECHAT, Channel.ALIPAY, Channel.EMAIL})


@dataclass
class Profile:
    customer_id: int
    tier: str
    line: str  # the customer's business line (Customer.segment): retail, private banking …
    age: int | None
    holding_kinds: Counter[str] = field(default_factory=Counter)  # active holdings by kind
    contacts: Counter[str] = field(default_factory=Counter)  # cases by channel, last year
    complaints: int = 0
    life_events: dict[str, date] = field(default_factory=dict)  # kind → the latest
    accessibility: tuple[str, ...] = ()
    has_relationship_manager: bool = False
    verified_phone: bool = False
    today: date = date.min  # the day the profile was read for

    @property
    def products(self) -> int:
        """Active products held, of every kind."""
        return sum(self.holding_kinds.values())

    @property
    def contact_count(self) -> int:
        return sum(self.contacts.values())

    @property
    def main_channel(self) -> str:
        """The channel most of their contacts came by ("" with none; the first seen on a tie)."""
        return self.contacts.most_common(1)[0][0] if self.contacts else ""

    @property
    def digital_share(self) -> float:
        total = self.contact_count
        return sum(n for c, n in self.contacts.items() if c in DIGITAL) / total if total else 0.0


def _ids(customer_ids: Iterable[int] | None) -> Iterator[list[int]]:
    if customer_ids is not None:
        ids = sorted(set(customer_ids))
        for start in range(0, len(ids), BATCH):
            yield ids[start : start + BATCH]
        return
    last = 0
    while True:
        batch = list(
            Customer.objects.filter(is_provisional=False, pk__gt=last)
            .order_by("pk")
            .values_list("pk", flat=True)[:BATCH]
        )
        if not batch:
            return
        yield batch
        last = batch[-1]


def profiles(
    customer_ids: Iterable[int] | None = None, *, now: datetime | None = None
) -> Iterator[Profile]:
    """The profiles of these customers (every real customer when None), a batch at a time."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    since = now - LOOKBACK
    for batch in _ids(customer_ids):
        found: dict[int, Profile] = {}
        # The encrypted accessibility needs are read with the row, a batch at a time.
        for customer in Customer.objects.filter(pk__in=batch).only(
            "pk", "tier", "segment", "birth_year", "accessibility", "relationship_manager_id"
        ):
            found[customer.pk] = Profile(
                customer_id=customer.pk,
                tier=customer.tier,
                line=customer.segment,
                age=today.year - customer.birth_year if customer.birth_year else None,
                accessibility=tuple(customer.accessibility_needs()),
                has_relationship_manager=customer.relationship_manager_id is not None,
                today=today,
            )
        for customer_id, kind in Holding.objects.filter(
            customer_id__in=batch, status=HoldingStatus.ACTIVE
        ).values_list("customer_id", "kind"):
            found[customer_id].holding_kinds[kind] += 1
        for customer_id, channel, is_complaint in Case.objects.filter(
            customer_id__in=batch, created_at__gte=since, created_at__lt=now, merged_into=None
        ).values_list("customer_id", "channel", "is_complaint"):
            found[customer_id].contacts[channel] += 1
            found[customer_id].complaints += int(is_complaint)
        latest: dict[int, dict[str, date]] = defaultdict(dict)
        for customer_id, kind, occurred_on in LifeEvent.objects.filter(
            customer_id__in=batch, occurred_on__lte=today
        ).values_list("customer_id", "kind", "occurred_on"):
            if occurred_on > latest[customer_id].get(kind, date.min):
                latest[customer_id][kind] = occurred_on
        for customer_id, events in latest.items():
            found[customer_id].life_events = events
        for customer_id in Identity.objects.filter(
            customer_id__in=batch, kind=IdentityKind.PHONE, is_verified=True
        ).values_list("customer_id", flat=True):
            found[customer_id].verified_phone = True
        yield from (found[pk] for pk in batch if pk in found)


def profile_of(customer_id: int, *, now: datetime | None = None) -> Profile | None:
    return next(profiles([customer_id], now=now), None)
