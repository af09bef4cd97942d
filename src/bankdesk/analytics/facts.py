"""A case's fact row, replayed from its event log.

The case row's own fields (status, resolved_at, first_response_at, assignee) say where a case is
now and are rewritten as it moves; the indicators need what happened, so they read the events:

- created: the `created` event (its channel and category);
- first response: the first message out written by a person (the assistant's are not);
- resolution: each move to resolved, or to closed without passing resolved; a move back from
  resolved reopens the case and the resolution no longer stands until the next one;
- team, agent, category: the last assignment and category change;
- a complaint from the `complaint_opened` event; merged from `merged_into`.

Times are whole minutes, calendar and business (the case's own calendar: its branch's, else its
team's, else the bank's standard one), so medians and p90s come out exactly from rollups.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any, NamedTuple

from bankdesk.analytics.models import CaseFact
from bankdesk.customers.models import Customer
from bankdesk.sla.calendar import BusinessCalendarSpec, CalendarRangeError
from bankdesk.sla.snapshot import sla_settings
from bankdesk.staff.models import Branch, Team
from bankdesk.tickets.choices import CaseStatus, Direction, EventKind
from bankdesk.tickets.models import Case, CaseEvent, Category

# The events that move a fact; the others (notes, tags, deliveries) leave it as it is.
FACT_EVENTS = (
    EventKind.CREATED,
    EventKind.ASSIGNED,
    EventKind.CATEGORY_CHANGED,
    EventKind.COMPLAINT_OPENED,
    EventKind.MESSAGE_ADDED,
    EventKind.STATUS_CHANGED,
    EventKind.MERGED_INTO,
)
CHUNK = 2000


def minutes_between(start: datetime, end: datetime) -> int:
    return max(0, int((end - start).total_seconds() // 60))


def business_minutes(spec: BusinessCalendarSpec, start: datetime, end: datetime) -> int | None:
    """Working minutes between two moments on the calendar; None where the calendar's known
    years do not reach (a case from before its holidays were published)."""
    try:
        return spec.business_minutes_between(start, end)
    except CalendarRangeError:
        return None


class _Lookups:
    """What facts need beside the events, read once per batch."""

    def __init__(self, cases: list[dict[str, Any]]) -> None:
        self.categories = dict(Category.objects.values_list("code", "pk"))
        self.branch_calendars = dict(
            Branch.objects.exclude(calendar=None).values_list("pk", "calendar_id")
        )
        self.team_calendars = dict(
            Team.objects.exclude(calendar=None).values_list("pk", "calendar_id")
        )
        customer_ids = {c["customer_id"] for c in cases if c["customer_id"] is not None}
        self.tiers: dict[int, str] = {}
        for start in range(0, len(customer_ids), CHUNK):
            part = sorted(customer_ids)[start : start + CHUNK]
            self.tiers.update(Customer.objects.filter(pk__in=part).values_list("pk", "tier"))
        self.settings = sla_settings()

    def calendar(self, branch_id: int | None, team_id: int | None) -> BusinessCalendarSpec:
        calendar_id = self.branch_calendars.get(branch_id) if branch_id else None
        if calendar_id is None and team_id:
            calendar_id = self.team_calendars.get(team_id)
        if calendar_id is None:
            calendar_id = self.settings.default_calendar_id
        return self.settings.spec(calendar_id)


class Event(NamedTuple):
    """What a replay reads of a case event: plain values, not model instances (a year of
    history is millions of them)."""

    pk: int
    case_id: int
    kind: str
    actor_id: int | None
    data: dict[str, Any]
    created_at: datetime


def _replay(case: dict[str, Any], events: Iterable[Event], lookups: _Lookups) -> CaseFact:
    fact = CaseFact(
        case_id=case["id"],
        created_at=case["created_at"],
        channel=case["channel"],
        branch_id=case["branch_id"],
        tier=lookups.tiers.get(case["customer_id"], "") if case["customer_id"] else "",
    )
    inbound_before_resolution = 0
    for event in events:
        data = event.data or {}
        fact.last_event_id = max(fact.last_event_id, event.pk)
        kind = event.kind
        if kind == EventKind.CREATED:
            fact.created_at = event.created_at
            fact.channel = data.get("channel") or fact.channel
            fact.category_id = lookups.categories.get(data.get("category") or "")
        elif kind == EventKind.ASSIGNED:
            fact.team_id = data.get("team_id")
            fact.agent_id = data.get("assignee_id")
        elif kind == EventKind.CATEGORY_CHANGED:
            fact.category_id = lookups.categories.get(data.get("to") or "")
        elif kind == EventKind.COMPLAINT_OPENED:
            fact.is_complaint = True
        elif kind == EventKind.MERGED_INTO:
            fact.merged = True
        elif kind == EventKind.MESSAGE_ADDED:
            if data.get("direction") == Direction.INBOUND and fact.first_resolved_at is None:
                inbound_before_resolution += 1
            elif (
                data.get("direction") == Direction.OUTBOUND
                and event.actor_id is not None
                and fact.first_response_at is None
            ):
                fact.first_response_at = event.created_at
        elif kind == EventKind.STATUS_CHANGED:
            before, after = data.get("from"), data.get("to")
            if after == CaseStatus.RESOLVED or (
                after == CaseStatus.CLOSED and before != CaseStatus.RESOLVED
            ):
                fact.resolved_at = event.created_at
                if fact.first_resolved_at is None:
                    fact.first_resolved_at = event.created_at
            elif before == CaseStatus.RESOLVED and after != CaseStatus.CLOSED:
                fact.reopened += 1
                fact.resolved_at = None
    spec = lookups.calendar(fact.branch_id, fact.team_id)
    if fact.first_response_at is not None:
        fact.first_response_minutes = minutes_between(fact.created_at, fact.first_response_at)
        fact.first_response_business_minutes = business_minutes(
            spec, fact.created_at, fact.first_response_at
        )
    if fact.resolved_at is not None:
        fact.resolution_minutes = minutes_between(fact.created_at, fact.resolved_at)
        fact.resolution_business_minutes = business_minutes(spec, fact.created_at, fact.resolved_at)
        fact.first_contact = fact.reopened == 0 and inbound_before_resolution <= 1
    return fact


def facts_replay(case_ids: Iterable[int]) -> list[CaseFact]:
    """The facts of these cases as their events tell them now (not saved)."""
    ids = sorted(set(case_ids))
    facts: list[CaseFact] = []
    for start in range(0, len(ids), CHUNK):
        part = ids[start : start + CHUNK]
        cases: list[dict[str, Any]] = [
            dict(row)
            for row in Case.objects.filter(pk__in=part).values(
                "id", "created_at", "channel", "branch_id", "customer_id"
            )
        ]
        lookups = _Lookups(cases)
        events: dict[int, list[Event]] = defaultdict(list)
        rows = (
            CaseEvent.objects.filter(case_id__in=part, kind__in=FACT_EVENTS)
            .order_by("id")
            .values_list("id", "case_id", "kind", "actor_id", "data", "created_at")
        )
        for row in rows.iterator(chunk_size=10_000):
            event = Event(*row)
            events[event.case_id].append(event)
        facts.extend(_replay(case, events[case["id"]], lookups) for case in cases)
    return facts


FACT_FIELDS = [
    f.attname for f in CaseFact._meta.concrete_fields if f.attname not in {"case_id", "id"}
]


def fact_values(fact: CaseFact) -> tuple[Any, ...]:
    """The fact's content, to compare a rebuilt fact with the one kept."""
    return (fact.case_id, *(getattr(fact, name) for name in FACT_FIELDS))
