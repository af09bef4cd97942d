"""Reads of the security records: the audit log as auditors page through it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet

from bankdesk.lib.cursor import cursor_decode, cursor_encode
from bankdesk.security.models import AuditEntry


@dataclass(frozen=True)
class AuditFilters:
    """What an auditor narrows the log to; every filter is an exact match, times a range."""

    actor: str | None = None  # the username as recorded ("system" for the bank's own jobs)
    action: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive


@dataclass(frozen=True)
class AuditPage:
    items: list[AuditEntry]
    next_cursor: str | None


def audit_entries_filtered(filters: AuditFilters) -> QuerySet[AuditEntry]:
    entries = AuditEntry.objects.all()
    if filters.actor:
        entries = entries.filter(actor_name=filters.actor)
    if filters.action:
        entries = entries.filter(action=filters.action)
    if filters.object_type:
        entries = entries.filter(object_type=filters.object_type)
    if filters.object_id:
        entries = entries.filter(object_id=filters.object_id)
    if filters.since:
        entries = entries.filter(created_at__gte=filters.since)
    if filters.until:
        entries = entries.filter(created_at__lt=filters.until)
    return entries


def audit_entry_page(*, filters: AuditFilters, cursor: str | None, limit: int) -> AuditPage:
    """One page of the audit log, newest first, continuing after `cursor` (keyset, no OFFSET).

    Entries not yet chained are shown too (without a sequence): what happened a moment ago is
    part of the log before the chainer has linked it.
    """
    entries = audit_entries_filtered(filters)
    if cursor:
        created_at, pk = cursor_decode(cursor)
        entries = entries.filter(Q(created_at__lt=created_at) | Q(created_at=created_at, id__lt=pk))
    rows = list(entries.order_by("-created_at", "-id")[: limit + 1])
    items = rows[:limit]
    next_cursor = (
        cursor_encode(items[-1].created_at, items[-1].pk) if len(rows) > limit and items else None
    )
    return AuditPage(items=items, next_cursor=next_cursor)
