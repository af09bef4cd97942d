"""Request and response shapes of the cases API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone
from ninja import Schema
from pydantic import Field

from bankdesk.lib.api import AwareDatetime, Id, RequiredText, Text
from bankdesk.lib.channels import Channel
from bankdesk.sla.schemas import ClockOut
from bankdesk.sla.selectors import clock_out
from bankdesk.tickets.choices import Activity, CaseStatus, Priority
from bankdesk.tickets.collision import Watcher
from bankdesk.tickets.models import Attachment, Case, CaseEvent, Category, InternalNote, Message


class CaseIn(Schema):
    subject: RequiredText(200)  # type: ignore[valid-type]
    channel: Channel
    customer_id: Id | None = None
    category_id: Id | None = None
    priority: Priority = Priority.NORMAL
    team_id: Id | None = Field(
        default=None, description="Empty with no assignee: the routing rules choose"
    )
    assignee_id: Id | None = None
    branch_id: Id | None = Field(default=None, description="The branch it was raised at")
    language: str = Field(default="zh-hans", pattern=r"^(zh-hans|zh-hant|en)$")
    text: Text(100_000) = ""  # type: ignore[valid-type]
    tags: list[RequiredText(50)] = Field(default_factory=list, max_length=20)  # type: ignore[valid-type]


class CaseListQuery(Schema):
    status: list[CaseStatus] = Field(default_factory=list, max_length=6)
    team_id: Id | None = None
    assignee_id: Id | None = None
    category_id: Id | None = None
    priority: Priority | None = None
    channel: Channel | None = None
    customer_id: Id | None = None
    is_complaint: bool | None = None
    created_from: AwareDatetime | None = None
    created_to: AwareDatetime | None = None
    cursor: Text(200) | None = None  # type: ignore[valid-type]
    limit: int = Field(default=50, ge=1, le=200)


class StatusIn(Schema):
    status: CaseStatus
    reason: Text(500) = ""  # type: ignore[valid-type]


class PriorityIn(Schema):
    priority: Priority


class CategoryIn(Schema):
    category_id: Id


class AssignIn(Schema):
    team_id: Id | None = None
    assignee_id: Id | None = None


class NoteIn(Schema):
    text: RequiredText(20_000)  # type: ignore[valid-type]


class TagsIn(Schema):
    tags: list[RequiredText(50)] = Field(max_length=20)  # type: ignore[valid-type]


class MergeIn(Schema):
    into_case_id: Id
    reason: Text(500) = ""  # type: ignore[valid-type]


class Ref(Schema):
    id: int
    name: str


class CategoryOut(Schema):
    id: int
    code: str
    name: str
    name_en: str
    parent_id: int | None
    is_complaint: bool
    is_active: bool


class CaseOut(Schema):
    id: int
    number: str
    subject: str
    status: str
    priority: str
    channel: str
    language: str
    is_complaint: bool
    category: CategoryOut | None
    customer: Ref | None
    team: Ref | None
    assignee: Ref | None
    branch: Ref | None
    merged_into_id: int | None
    tags: list[str]
    created_at: datetime
    updated_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    sla: list[ClockOut]


class CasePageOut(Schema):
    items: list[CaseOut]
    next_cursor: str | None


class AttachmentOut(Schema):
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    created_at: datetime


class MessageOut(Schema):
    id: int
    direction: str
    channel: str
    author: Ref | None
    text: str
    html: str
    external_id: str | None
    delivery_status: str = Field(
        description="A reply's way to the customer: queued, sent or failed (see the case's "
        "delivery_failed event for why); empty for what bankdesk does not send"
    )
    attachments: list[AttachmentOut]
    created_at: datetime


class NoteOut(Schema):
    id: int
    author: Ref
    text: str
    created_at: datetime


class EventOut(Schema):
    id: int
    kind: str
    actor: Ref | None
    data: dict[str, Any]
    created_at: datetime


def _ref(obj: Any, name: str) -> dict[str, Any] | None:
    return None if obj is None else {"id": obj.pk, "name": name}


def _staff_ref(user: Any) -> dict[str, Any] | None:
    return None if user is None else _ref(user, user.display_name or user.username)


def category_out(category: Category | None) -> dict[str, Any] | None:
    if category is None:
        return None
    return {
        "id": category.pk,
        "code": category.code,
        "name": category.name,
        "name_en": category.name_en,
        "parent_id": category.parent_id,
        "is_complaint": category.is_complaint,
        "is_active": category.is_active,
    }


def case_out(case: Case) -> dict[str, Any]:
    now = timezone.now()
    return {
        "id": case.pk,
        "number": case.number,
        "subject": case.subject,
        "status": case.status,
        "priority": case.priority,
        "channel": case.channel,
        "language": case.language,
        "is_complaint": case.is_complaint,
        "category": category_out(case.category),
        "customer": _ref(case.customer, case.customer.name) if case.customer else None,
        "team": _ref(case.team, case.team.name) if case.team else None,
        "assignee": _staff_ref(case.assignee),
        "branch": _ref(case.branch, case.branch.name) if case.branch else None,
        "merged_into_id": case.merged_into_id,
        "tags": [tag.name for tag in case.tags.all()],
        "created_at": case.created_at,
        "updated_at": case.updated_at,
        "first_response_at": case.first_response_at,
        "resolved_at": case.resolved_at,
        "closed_at": case.closed_at,
        "sla": [clock_out(clock, now) for clock in case.sla_clocks.all()],
    }


def message_out(message: Message) -> dict[str, Any]:
    return {
        "id": message.pk,
        "direction": message.direction,
        "channel": message.channel,
        "author": _staff_ref(message.author),
        "text": message.text,
        "html": message.html,
        "external_id": message.external_id,
        "delivery_status": message.delivery_status,
        "attachments": [attachment_out(a) for a in message.attachments.all()],
        "created_at": message.created_at,
    }


def attachment_out(attachment: Attachment) -> dict[str, Any]:
    return {
        "id": attachment.pk,
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "sha256": attachment.sha256,
        "created_at": attachment.created_at,
    }


def note_out(note: InternalNote) -> dict[str, Any]:
    return {
        "id": note.pk,
        "author": _staff_ref(note.author),
        "text": note.text,
        "created_at": note.created_at,
    }


def event_out(event: CaseEvent) -> dict[str, Any]:
    return {
        "id": event.pk,
        "kind": event.kind,
        "actor": _staff_ref(event.actor),
        "data": event.data,
        "created_at": event.created_at,
    }


class ActivityIn(Schema):
    activity: Activity


class WatcherOut(Schema):
    user: Ref
    activity: str = Field(description="viewing or replying")
    since: datetime = Field(description="Last seen")


class WatchersOut(Schema):
    others: list[WatcherOut] = Field(description="Everyone else on the case, replying first")


def watchers_out(watchers: list[Watcher]) -> dict[str, Any]:
    return {
        "others": [
            {"user": _staff_ref(w.user), "activity": w.activity, "since": w.since} for w in watchers
        ]
    }
