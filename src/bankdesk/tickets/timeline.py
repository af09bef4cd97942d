"""One timeline per customer: every message on every channel, across the cases the reader may
see, newest first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypedDict

from django.db.models import F, Q

from bankdesk.customers.models import Customer
from bankdesk.lib.cursor import cursor_decode, cursor_encode
from bankdesk.staff.models import User
from bankdesk.tickets.access import case_scope
from bankdesk.tickets.models import Case, Message


class _CaseNumber(TypedDict):
    case_number: str


if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    # A message with the number of its case beside it.
    TimelineMessage = WithAnnotations[Message, _CaseNumber]


@dataclass(frozen=True)
class TimelinePage:
    items: list[TimelineMessage]
    next_cursor: str | None


def customer_timeline(
    *, user: User, customer: Customer, cursor: str | None, limit: int
) -> TimelinePage:
    """The customer's messages in cases `user` may see (a complaint an agent may not see stays
    out), walked newest first through the message_case_time index of each case."""
    scope = case_scope(user)
    cases = Case.objects.filter(customer=customer)
    if scope is not None:
        cases = cases.filter(scope)
    case_ids = list(cases.values_list("pk", flat=True))
    # Of the case, a timeline line shows its number: read that, not every case's whole row.
    messages = (
        Message.objects.filter(case_id__in=case_ids)
        .select_related("author")
        .annotate(case_number=F("case__number"))
        .prefetch_related("attachments")
        .order_by("-created_at", "-id")
    )
    if cursor:
        created_at, pk = cursor_decode(cursor)
        messages = messages.filter(
            Q(created_at__lt=created_at) | Q(created_at=created_at, id__lt=pk)
        )
    items = list(messages[: limit + 1])
    next_cursor = None
    if len(items) > limit:
        items = items[:limit]
        next_cursor = cursor_encode(items[-1].created_at, items[-1].pk)
    return TimelinePage(items=items, next_cursor=next_cursor)
