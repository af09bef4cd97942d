"""Reads: what the case and customer pages show of personalisation, the outcomes of the
suggestions, and personalised-service coverage.

Coverage at a moment `at` (the plan's target: 70 %):

- **active customers**: real (not provisional) customers with a case opened in the year
  before `at` (merged cases count on the case they were merged into);
- **covered**: those of them who, at `at`, were under a service plan, or had a next-best-action
  accepted in that same year.

Both come from history kept for the purpose (plan assignments with their start and end, the
decision time of every suggestion), so a past quarter reads the same however often it is asked.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from bankdesk.customers.models import Customer
from bankdesk.customers.profile import customers_allowing
from bankdesk.lib.languages import named_in
from bankdesk.personalization.actions import BY_CODE, Action
from bankdesk.personalization.choices import SuggestionStatus
from bankdesk.personalization.models import Membership, PlanAssignment, Suggestion
from bankdesk.personalization.plans import plan_of
from bankdesk.personalization.segments import reason_text
from bankdesk.tickets.models import Case

ACTIVE_WINDOW = timedelta(days=365)
DECIDED_SHOWN = 5


@dataclass(frozen=True)
class Coverage:
    at: datetime
    active: int
    covered: int

    @property
    def value(self) -> float | None:
        return round(100 * self.covered / self.active, 1) if self.active else None


def _active_ids(at: datetime) -> QuerySet[Case, Any]:
    return (
        Case.objects.filter(
            created_at__gte=at - ACTIVE_WINDOW,
            created_at__lt=at,
            merged_into=None,
            customer__is_provisional=False,
        )
        .values("customer_id")
        .distinct()
    )


def _covered_ids(at: datetime) -> QuerySet[Case, Any]:
    planned = PlanAssignment.objects.filter(started_at__lt=at).filter(
        Q(ended_at=None) | Q(ended_at__gte=at)
    )
    acted = Suggestion.objects.filter(
        status=SuggestionStatus.ACCEPTED, decided_at__gte=at - ACTIVE_WINDOW, decided_at__lt=at
    )
    return _active_ids(at).filter(
        Q(customer_id__in=planned.values("customer_id"))
        | Q(customer_id__in=acted.values("customer_id"))
    )


def coverage_at(at: datetime) -> Coverage:
    """The two counts, each one statement in the database."""
    return Coverage(at=at, active=_active_ids(at).count(), covered=_covered_ids(at).count())


def coverage_customers(at: datetime, part: str) -> QuerySet[Customer]:
    """The customers behind coverage at `at`: the `active` ones or the `covered` ones."""
    ids = _covered_ids(at) if part == "covered" else _active_ids(at)
    return Customer.objects.filter(pk__in=ids.values("customer_id"))


@dataclass(frozen=True)
class Shown:
    """One open suggestion as the agent sees it."""

    pk: int
    action: Action
    reasons: list[str]
    created_at: datetime


@dataclass(frozen=True)
class Decided:
    """A suggestion someone took up or turned down (or that expired unanswered)."""

    action: str
    title: str
    outcome: str
    at: datetime | None
    by: str
    case_id: int | None
    case_number: str


@dataclass
class Personal:
    """What the agent is told of the customer's personalised service."""

    plan_name: str = ""
    guidance: str = ""
    plan_reasons: list[str] = field(default_factory=list)
    segments: list[tuple[str, list[str]]] = field(default_factory=list)
    suggestions: list[Shown] = field(default_factory=list)
    decided: list[Decided] = field(default_factory=list)


def suggestions_open(customer: Customer, now: datetime | None = None) -> list[Shown]:
    """The customer's open suggestions, not yet expired, that their consents allow now,
    newest first."""
    now = now or timezone.now()
    customer_id = customer.pk
    needs = customer.accessibility_needs()
    rows = list(
        Suggestion.objects.filter(
            customer_id=customer_id, status=SuggestionStatus.OPEN, expires_at__gt=now
        ).order_by("-created_at", "-id")
    )
    allowed = {
        purpose: customer_id in customers_allowing([customer_id], purpose)
        for purpose in {row.purpose for row in rows}
    }
    return [
        Shown(
            row.pk,
            BY_CODE[row.action],
            [reason_text(r, needs) for r in row.reasons],
            row.created_at,
        )
        for row in rows
        if allowed[row.purpose] and row.action in BY_CODE
    ]


def personal_of(customer: Customer | None) -> Personal | None:
    if customer is None or customer.is_provisional:
        return None
    shown = Personal()
    needs = customer.accessibility_needs()
    current = plan_of(customer.pk)
    if current is not None:
        plan = current.plan
        shown.plan_name = named_in(plan.name, plan.name_en)
        shown.guidance = named_in(plan.guidance, plan.guidance_en)
        shown.plan_reasons = [reason_text(r, needs) for r in current.reasons if "segment" not in r]
    for membership in Membership.objects.filter(
        customer=customer, segment__is_active=True
    ).select_related("segment"):
        segment = membership.segment
        shown.segments.append(
            (
                segment.shown_name(),
                [reason_text(r, needs) for r in membership.reasons],
            )
        )
    shown.suggestions = suggestions_open(customer)
    shown.decided = [
        Decided(
            action=row.action,
            title=str(BY_CODE[row.action].title),
            outcome=row.get_status_display(),
            at=row.decided_at,
            by=(row.decided_by.get_full_name() or row.decided_by.username)
            if row.decided_by
            else "",
            case_id=row.case_id,
            case_number=row.case.number if row.case else "",
        )
        for row in Suggestion.objects.filter(customer=customer)
        .exclude(status=SuggestionStatus.OPEN)
        .select_related("decided_by", "case")
        .order_by("-decided_at", "-id")[:DECIDED_SHOWN]
        if row.action in BY_CODE
    ]
    return shown


@dataclass(frozen=True)
class Outcome:
    action: Action
    accepted: int
    declined: int
    ignored: int
    open: int

    @property
    def decided(self) -> int:
        return self.accepted + self.declined + self.ignored

    @property
    def take_up(self) -> float | None:
        return round(100 * self.accepted / self.decided, 1) if self.decided else None


def suggestion_outcomes(since: datetime, until: datetime) -> list[Outcome]:
    """Per action, what became of the suggestions made in the period."""
    counts: Counter[tuple[str, str]] = Counter(
        Suggestion.objects.filter(created_at__gte=since, created_at__lt=until).values_list(
            "action", "status"
        )
    )
    return [
        Outcome(
            action,
            counts[(action.code, SuggestionStatus.ACCEPTED)],
            counts[(action.code, SuggestionStatus.DECLINED)],
            counts[(action.code, SuggestionStatus.IGNORED)],
            counts[(action.code, SuggestionStatus.OPEN)],
        )
        for action in BY_CODE.values()
    ]
