"""One timeline per customer: every message on every channel, across the cases the reader may
see, newest first."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from bankdesk.customers.models import Customer
from bankdesk.lib.cursor import cursor_decode, cursor_encode
from bankdesk.staff.models import User
from bankdesk.tickets.access import case_scope
from bankdesk.tickets.models import Case, Message


@dataclass(frozen=True)
class TimelinePage:
    items: list[Message]  # each also carries `case_number`, for templates
    next_cursor: str | None
    case_numbers: dict[int, str]  # case id → number, for the items' cases


def customer_timeline(
    *, user: User, customer: Customer, cursor: str | None, limit: int
) -> TimelinePage:
    """The customer's messages in cases `user` may see (a complaint an agent may not see stays
    out), newest first. The cases go to the database as a subquery, not a list: a customer
    with years of history has thousands, and each would be one more parameter to send."""
    scope = case_scope(user)
    cases = Case.objects.filter(customer=customer)
    if scope is not None:
        cases = cases.filter(scope)
    messages = (
        Message.objects.filter(case_id__in=cases.values("pk"))
        .select_related("author")
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
    # Of its case, a line shows the number: read for the page's messages only, afterwards (a
    # join in the walk would read the case of every message the walk passes).
    numbers = dict(
        Case.objects.filter(pk__in={m.case_id for m in items}).values_list("pk", "number")
    )
    for message in items:
        message.case_number = numbers[message.case_id]  # type: ignore[attr-defined]
    return TimelinePage(items=items, next_cursor=next_cursor, case_numbers=numbers)
