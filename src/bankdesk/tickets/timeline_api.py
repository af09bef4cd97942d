"""A customer's timeline: every channel's messages in one place."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from bankdesk.customers.access import access_customer_by_id
from bankdesk.lib.api import Id, Text, error_responses
from bankdesk.staff.auth import request_staff
from bankdesk.tickets.schemas import MessageOut, message_out
from bankdesk.tickets.timeline import customer_timeline

timeline_router = Router(tags=["customers"])


class TimelineQuery(Schema):
    cursor: Text(200) | None = None  # type: ignore[valid-type]
    limit: int = Field(default=50, ge=1, le=200)


class TimelineItemOut(MessageOut):
    case_id: int
    case_number: str


class TimelineOut(Schema):
    items: list[TimelineItemOut]
    next_cursor: str | None


@timeline_router.get(
    "/{customer_id}/timeline",
    response={200: TimelineOut, **error_responses(404)},
    summary="Every message of the customer on every channel, newest first",
)
def customer_timeline_get(
    request: HttpRequest, customer_id: Id, query: Query[TimelineQuery]
) -> dict[str, Any]:
    user = request_staff(request)
    customer = access_customer_by_id(user, customer_id, whole=False)
    page = customer_timeline(user=user, customer=customer, cursor=query.cursor, limit=query.limit)
    return {
        "items": [
            {**message_out(m), "case_id": m.case_id, "case_number": page.case_numbers[m.case_id]}
            for m in page.items
        ],
        "next_cursor": page.next_cursor,
    }
