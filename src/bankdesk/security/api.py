"""The audit log API: auditors read who did what, filtered and paged, and change nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema
from pydantic import Field, model_validator

from bankdesk.lib.api import AwareDatetime, Text, error_responses
from bankdesk.lib.errors import PermissionDenied
from bankdesk.security.models import AuditEntry
from bankdesk.security.selectors import AuditFilters, audit_entry_page

router = Router(tags=["audit"])

# Who may read the log is a matter of roles, which live in the staff app above this one: it
# grants this permission (staff/rules.py).
READ_PERMISSION = "security.view_auditentry"


class AuditQuery(Schema):
    actor: Text(150) | None = Field(  # type: ignore[valid-type]
        None, description="Username as recorded; 'system' for the bank's own jobs"
    )
    action: Text(60) | None = Field(  # type: ignore[valid-type]
        None, description="e.g. case.created, customer.reveal"
    )
    object_type: Text(60) | None = Field(  # type: ignore[valid-type]
        None, description="e.g. tickets.case, customers.customer"
    )
    object_id: Text(64) | None = None  # type: ignore[valid-type]
    since: AwareDatetime | None = Field(None, description="From this moment (inclusive)")
    until: AwareDatetime | None = Field(None, description="Before this moment")
    cursor: Text(200) | None = None  # type: ignore[valid-type]
    limit: int = Field(default=50, ge=1, le=200)

    @model_validator(mode="after")
    def _range_in_order(self) -> AuditQuery:
        if self.since and self.until and self.until <= self.since:
            raise ValueError("until must be after since")
        return self


class AuditEntryOut(Schema):
    id: int
    sequence: int | None = Field(description="Place in the chain; null until the chainer links it")
    actor_id: int | None
    actor_name: str
    action: str
    object_type: str
    object_id: str
    fields: list[str] = Field(description="Names of the fields changed or read, never values")
    reason: str
    origin_ip: str | None
    request_id: str
    created_at: datetime


class AuditPageOut(Schema):
    items: list[AuditEntryOut]
    next_cursor: str | None


def audit_entry_out(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.pk,
        "sequence": entry.sequence,
        "actor_id": entry.actor_id,
        "actor_name": entry.actor_name,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "fields": list(entry.fields),
        "reason": entry.reason,
        "origin_ip": entry.origin_ip,
        "request_id": entry.request_id,
        "created_at": timezone.localtime(entry.created_at),
    }


@router.get(
    "/entries",
    response={200: AuditPageOut, **error_responses()},
    summary="The audit log, newest first, filtered; follow next_cursor for the next page",
)
def audit_entry_list(request: HttpRequest, query: Query[AuditQuery]) -> dict[str, Any]:
    reader = getattr(request, "auth", None)
    if reader is None or not reader.has_perm(READ_PERMISSION):
        raise PermissionDenied("your role may not do this")
    page = audit_entry_page(
        filters=AuditFilters(
            actor=query.actor or None,
            action=query.action or None,
            object_type=query.object_type or None,
            object_id=query.object_id or None,
            since=query.since,
            until=query.until,
        ),
        cursor=query.cursor,
        limit=query.limit,
    )
    return {"items": [audit_entry_out(e) for e in page.items], "next_cursor": page.next_cursor}
