"""Reads for cases: the filtered case list, one case, its timeline and its events."""

from __future__ import annotations

import operator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import reduce
from typing import Any

from django.db import connection
from django.db.models import (
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from bankdesk.customers.models import Customer
from bankdesk.lib.cursor import cursor_decode, cursor_encode
from bankdesk.sla.choices import ClockStatus
from bankdesk.sla.models import SlaClock
from bankdesk.tickets.choices import ACTIVE_STATUSES, EventKind, LinkRelation
from bankdesk.tickets.models import (
    Case,
    CaseEvent,
    Category,
    Conversation,
    InternalNote,
    Message,
    Tag,
)
from bankdesk.tickets.threads import thread_key


@dataclass(frozen=True)
class CaseFilters:
    status: list[str] | None = None
    team_id: int | None = None
    assignee_id: int | None = None
    category_id: int | None = None
    priority: str | None = None
    channel: str | None = None
    customer_id: int | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    is_complaint: bool | None = None
    # The console's queue narrows further: cases nobody holds, a set of teams, a tag, the
    # customer's tier, where the SLA stands, and what changed lately.
    unassigned: bool = False
    team_ids: list[int] | None = None
    tag: str | None = None
    customer_tier: str | None = None
    sla_state: str | None = None  # one of SLA_STATES
    updated_from: datetime | None = None


# Where a case's SLA stands, by its running clocks: past the warning (and not yet due), or due.
SLA_AT_RISK = "at_risk"
SLA_BREACHED = "breached"
SLA_STATES = (SLA_AT_RISK, SLA_BREACHED)


def _sla_condition(state: str) -> Q:
    now = timezone.now()
    if state == SLA_BREACHED:
        return Q(due_at__lte=now)
    if state == SLA_AT_RISK:
        return Q(warn_at__lte=now, due_at__gt=now)
    raise ValueError(f"not an SLA state: {state}")


@dataclass(frozen=True)
class CasePage:
    items: list[Case]
    next_cursor: str | None


def case_queryset() -> QuerySet[Case]:
    """Cases with everything a list row shows, in a fixed number of queries."""
    return Case.objects.select_related(
        "category", "customer", "team", "assignee", "branch"
    ).prefetch_related(
        Prefetch("tags", queryset=Tag.objects.order_by("name")),
        Prefetch("sla_clocks", queryset=SlaClock.objects.order_by("id")),
    )


def case_filter(queryset: QuerySet[Case], filters: CaseFilters) -> QuerySet[Case]:
    if filters.status:
        queryset = queryset.filter(status__in=filters.status)
    if filters.team_id is not None:
        queryset = queryset.filter(team_id=filters.team_id)
    if filters.assignee_id is not None:
        queryset = queryset.filter(assignee_id=filters.assignee_id)
    if filters.category_id is not None:
        queryset = queryset.filter(category_id=filters.category_id)
    if filters.priority:
        queryset = queryset.filter(priority=filters.priority)
    if filters.channel:
        queryset = queryset.filter(channel=filters.channel)
    if filters.customer_id is not None:
        queryset = queryset.filter(customer_id=filters.customer_id)
    if filters.created_from is not None:
        queryset = queryset.filter(created_at__gte=filters.created_from)
    if filters.created_to is not None:
        queryset = queryset.filter(created_at__lt=filters.created_to)
    if filters.is_complaint is not None:
        queryset = queryset.filter(is_complaint=filters.is_complaint)
    if filters.unassigned:
        queryset = queryset.filter(assignee__isnull=True)
    if filters.team_ids is not None:
        queryset = queryset.filter(team_id__in=filters.team_ids)
    if filters.tag:
        queryset = queryset.filter(tags__name=filters.tag)
    if filters.customer_tier:
        queryset = queryset.filter(customer__tier=filters.customer_tier)
    if filters.sla_state:
        clocks = SlaClock.objects.filter(
            _sla_condition(filters.sla_state), case=OuterRef("pk"), status=ClockStatus.RUNNING
        )
        queryset = queryset.filter(Exists(clocks))
    if filters.updated_from is not None:
        queryset = queryset.filter(updated_at__gte=filters.updated_from)
    return queryset


NEWEST_FIRST = ("-created_at", "-id")
OLDEST_FIRST = ("created_at", "id")


@dataclass(frozen=True)
class ScopeBranch:
    """One way a case comes into someone's scope: `column` holds `value` (None: is empty)."""

    column: str  # team_id, assignee_id, created_by_id or is_complaint
    value: int | bool | None

    @property
    def q(self) -> Q:
        if self.value is None:
            return Q(**{f"{self.column}__isnull": True})
        return Q(**{self.column: self.value})


_SCOPE_COLUMNS = frozenset({"team_id", "assignee_id", "created_by_id", "is_complaint"})


def _page_keys(
    selection: QuerySet[Case], branches: list[ScopeBranch], limit: int, *, oldest_first: bool
) -> list[int]:
    """Ids of the newest (or oldest) `limit` cases in the union of `branches`, in one statement:
    each branch walks its own index in that order and stops after `limit` rows, whatever the
    table's size, and the database merges the walks.

    The filters are compiled once, as a subquery every branch narrows by its column (both
    SQLite and PostgreSQL fold it into the walk); compiling one query per branch cost more than
    running them.
    """
    if not branches:
        return []
    columns = sorted({branch.column for branch in branches})
    if not _SCOPE_COLUMNS.issuperset(columns):
        raise ValueError(f"not a scope column: {columns}")
    bare = selection.select_related(None).prefetch_related(None).order_by()
    base_sql, base_params = bare.values_list("id", "created_at", *columns).query.sql_with_params()
    quote = connection.ops.quote_name
    order = "ASC" if oldest_first else "DESC"
    walks: list[str] = []
    params: list[Any] = []
    for n, branch in enumerate(branches):
        column = f"s.{quote(branch.column)}"
        condition = f"{column} IS NULL" if branch.value is None else f"{column} = %s"
        # Identifiers are fixed column names (checked above) and Django's compiled filters;
        # every value is a parameter.
        walks.append(
            f"SELECT * FROM (SELECT s.{quote('id')}, s.{quote('created_at')} "  # noqa: S608
            f"FROM ({base_sql}) s WHERE {condition} "
            f"ORDER BY s.{quote('created_at')} {order}, s.{quote('id')} {order} LIMIT %s) w{n}"
        )
        params += [*base_params, *([] if branch.value is None else [branch.value]), limit]
    sql = (
        f"SELECT u.{quote('id')} FROM ({' UNION '.join(walks)}) u "  # noqa: S608
        f"ORDER BY u.{quote('created_at')} {order}, u.{quote('id')} {order} LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, limit])
        return [row[0] for row in cursor.fetchall()]


class PageOrder(StrEnum):
    NEWEST = "newest"
    OLDEST = "oldest"
    # The running deadlines, soonest (most overdue) first: only cases with a running clock.
    DUE = "due"


def case_page(
    *,
    queryset: QuerySet[Case],
    filters: CaseFilters,
    cursor: str | None,
    limit: int,
    branches: list[ScopeBranch] | None = None,
    order: str = PageOrder.NEWEST,
) -> CasePage:
    """One page of cases, newest first, oldest first or by running deadline, continuing after
    `cursor` (keyset, no OFFSET).

    With `branches` (a user's scope, see tickets.access) the page holds only their union.
    """
    selection = case_filter(queryset, filters)
    if order == PageOrder.DUE:
        return _due_page(selection, cursor, limit, branches)
    oldest_first = order == PageOrder.OLDEST
    if cursor:
        created_at, pk = cursor_decode(cursor)
        if oldest_first:
            after = Q(created_at__gt=created_at) | Q(created_at=created_at, id__gt=pk)
        else:
            after = Q(created_at__lt=created_at) | Q(created_at=created_at, id__lt=pk)
        selection = selection.filter(after)
    if branches is not None:
        keys = _page_keys(selection, branches, limit + 1, oldest_first=oldest_first)
        selection = selection.filter(pk__in=keys)
    rows = list(selection.order_by(*(OLDEST_FIRST if oldest_first else NEWEST_FIRST))[: limit + 1])
    items = rows[:limit]
    next_cursor = (
        cursor_encode(items[-1].created_at, items[-1].pk) if len(rows) > limit and items else None
    )
    return CasePage(items=items, next_cursor=next_cursor)


def _due_page(
    selection: QuerySet[Case], cursor: str | None, limit: int, branches: list[ScopeBranch] | None
) -> CasePage:
    """Cases by running deadline. Only cases with a running clock carry one, and they are as
    many as the work in hand, so the scope is a plain condition on the case_sla_due index."""
    selection = selection.filter(sla_due_at__isnull=False)
    if cursor:
        due_at, pk = cursor_decode(cursor)
        selection = selection.filter(Q(sla_due_at__gt=due_at) | Q(sla_due_at=due_at, id__gt=pk))
    if branches is not None:
        if not branches:
            return CasePage(items=[], next_cursor=None)
        selection = selection.filter(reduce(operator.or_, (branch.q for branch in branches)))
    rows = list(selection.order_by("sla_due_at", "id")[: limit + 1])
    items = rows[:limit]
    last = items[-1] if items else None
    next_cursor = (
        cursor_encode(last.sla_due_at, last.pk)
        if len(rows) > limit and last is not None and last.sla_due_at is not None
        else None
    )
    return CasePage(items=items, next_cursor=next_cursor)


def active_load(assignee: Any, *, channel: str | None = None) -> Coalesce:
    """How many open cases `assignee` (an OuterRef to a user) holds, on `channel` if given: a
    subquery on the (assignee, status) index, so a long closed history costs nothing."""
    cases = Case.objects.filter(assignee=assignee, status__in=sorted(ACTIVE_STATUSES))
    if channel is not None:
        cases = cases.filter(channel=channel)
    counted = cases.order_by().values("assignee").annotate(n=Count("id")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def case_customer_tier(case: Case) -> str | None:
    """The tier of the case's customer (routing rules and SLA policies match on it): from the
    customer already read with the case, else the tier alone, never the whole customer."""
    if case.customer_id is None:
        return None
    if Case.customer.is_cached(case):
        return case.customer.tier if case.customer else None
    return Customer.objects.filter(pk=case.customer_id).values_list("tier", flat=True).first()


def case_events(*, case: Case) -> QuerySet[CaseEvent]:
    return CaseEvent.objects.filter(case=case).select_related("actor").order_by("id")


def case_messages(*, case: Case) -> QuerySet[Message]:
    return (
        Message.objects.filter(case=case)
        .select_related("author")
        .prefetch_related("attachments")
        .order_by("created_at", "id")
    )


def case_notes(*, case: Case) -> QuerySet[InternalNote]:
    return InternalNote.objects.filter(case=case).select_related("author").order_by("id")


@dataclass(frozen=True)
class CaseLink:
    """Another case linked to this one, because a message on one of them named the other."""

    case_id: int
    number: str
    relation: str  # LinkRelation, from this case's side

    @property
    def relation_display(self) -> str:
        return str(LinkRelation(self.relation).label)


def case_links(*, case: Case) -> list[CaseLink]:
    """The cases linked to this one, oldest link first."""
    found = CaseEvent.objects.filter(case=case, kind=EventKind.LINKED).order_by("id")
    return [
        CaseLink(
            case_id=data["linked_case_id"],
            number=data["linked_number"],
            relation=data["relation"],
        )
        for data in found.values_list("data", flat=True)
    ]


def case_messages_from_contacts_not_on_file(*, case: Case) -> set[int]:
    """Ids of the case's messages that came from a contact not on its customer's file."""
    flagged = CaseEvent.objects.filter(case=case, kind=EventKind.CONTACT_NOT_ON_FILE)
    return {data["message_id"] for data in flagged.values_list("data", flat=True)}


def thread_case(channel: str, thread_id: str) -> Case | None:
    """The case of a channel thread's latest conversation (a web chat session, a WeChat
    openid, an e-mail thread), as it was put there: merges are not followed."""
    conversation = (
        Conversation.objects.filter(
            channel=channel, external_thread_id=thread_key(channel, thread_id)
        )
        .select_related("case")
        .order_by("-id")
        .first()
    )
    return conversation.case if conversation is not None else None


def category_get(*, category_id: int) -> Category | None:
    return Category.objects.filter(pk=category_id).first()


def category_list() -> QuerySet[Category]:
    return Category.objects.select_related("parent").order_by("code")
