"""SLA API: business-time deadlines on the bank's calendars."""

from __future__ import annotations

from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field, StringConstraints

from bankdesk.lib.api import AwareDatetime, error_responses
from bankdesk.sla.selectors import calendar_deadline

router = Router(tags=["sla"])

CalendarCode = Annotated[str, StringConstraints(max_length=60, pattern=r"^[-a-zA-Z0-9_]+$")]


class DeadlineQuery(Schema):
    start: AwareDatetime
    minutes: int = Field(ge=0, le=10_000_000)


class DeadlineOut(Schema):
    deadline: str


@router.get(
    "/calendars/{code}/deadline",
    response={200: DeadlineOut, **error_responses(404)},
    summary="The moment N business minutes after start on a calendar, in its time zone",
)
def calendar_deadline_get(
    request: HttpRequest, code: CalendarCode, query: Query[DeadlineQuery]
) -> dict[str, Any]:
    deadline = calendar_deadline(code=code, start=query.start, minutes=query.minutes)
    return {"deadline": deadline.isoformat()}
