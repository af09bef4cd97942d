"""Cases API: open, list, read and work cases. Handlers parse, authorise, call a service."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, HttpRequest
from ninja import File, Query, Router, Status
from ninja.files import UploadedFile

from bankdesk.customers.access import access_customer_by_id
from bankdesk.lib.api import Id, error_responses
from bankdesk.staff.auth import request_staff, require_perm
from bankdesk.staff.errors import StaffNotFound
from bankdesk.staff.models import User
from bankdesk.staff.selectors import staff_get
from bankdesk.tickets import services
from bankdesk.tickets.access import access_case_by_id, assignment_check, case_page_for
from bankdesk.tickets.attachments import attachment_add, attachment_open
from bankdesk.tickets.choices import Activity
from bankdesk.tickets.collision import case_activity_end, case_activity_report, case_watchers
from bankdesk.tickets.errors import AttachmentNotFound, MessageNotFound
from bankdesk.tickets.lookups import branch_by_id, category_by_id, team_by_id
from bankdesk.tickets.models import Attachment
from bankdesk.tickets.schemas import (
    ActivityIn,
    AssignIn,
    AttachmentOut,
    CaseIn,
    CaseListQuery,
    CaseOut,
    CasePageOut,
    CategoryIn,
    CategoryOut,
    EventOut,
    MergeIn,
    MessageOut,
    NoteIn,
    NoteOut,
    PriorityIn,
    StatusIn,
    TagsIn,
    WatchersOut,
    attachment_out,
    case_out,
    category_out,
    event_out,
    message_out,
    note_out,
    watchers_out,
)
from bankdesk.tickets.selectors import (
    CaseFilters,
    case_events,
    case_messages,
    case_notes,
    category_list,
)

router = Router(tags=["cases"])
categories_router = Router(tags=["cases"])


def _staff(staff_id: int | None) -> User | None:
    if staff_id is None:
        return None
    user = staff_get(staff_id=staff_id)
    if user is None:
        raise StaffNotFound(f"staff member {staff_id} not found", field="assignee_id")
    return user


def _fresh(request: HttpRequest, case_id: int) -> dict[str, Any]:
    return case_out(access_case_by_id(request_staff(request), case_id))


@router.post("", response={201: CaseOut, **error_responses(404)}, summary="Open a case")
def case_create(request: HttpRequest, payload: CaseIn) -> Status[dict[str, Any]]:
    user = request_staff(request)
    require_perm(user, "tickets.add_case")
    customer = (
        access_customer_by_id(user, payload.customer_id, whole=False)
        if payload.customer_id
        else None
    )
    team = team_by_id(payload.team_id) if payload.team_id else None
    assignee = _staff(payload.assignee_id)
    assignment_check(user, team, assignee)
    case = services.case_create(
        subject=payload.subject,
        channel=payload.channel,
        actor=user,
        customer=customer,
        category=category_by_id(payload.category_id) if payload.category_id else None,
        priority=payload.priority,
        team=team,
        assignee=assignee,
        language=payload.language,
        text=payload.text,
        tags=payload.tags,
        branch=branch_by_id(payload.branch_id) if payload.branch_id else None,
        route=True,
    )
    return Status(201, _fresh(request, case.pk))


@router.get(
    "",
    response={200: CasePageOut, **error_responses()},
    summary="List cases, newest first; follow next_cursor for the next page",
)
def case_list(request: HttpRequest, query: Query[CaseListQuery]) -> dict[str, Any]:
    user = request_staff(request)
    page = case_page_for(
        user,
        filters=CaseFilters(
            status=[str(s) for s in query.status] or None,
            team_id=query.team_id,
            assignee_id=query.assignee_id,
            category_id=query.category_id,
            priority=query.priority,
            channel=query.channel,
            customer_id=query.customer_id,
            created_from=query.created_from,
            created_to=query.created_to,
            is_complaint=query.is_complaint,
        ),
        cursor=query.cursor,
        limit=query.limit,
    )
    return {"items": [case_out(case) for case in page.items], "next_cursor": page.next_cursor}


@router.get("/{case_id}", response={200: CaseOut, **error_responses(404)}, summary="One case")
def case_get(request: HttpRequest, case_id: Id) -> dict[str, Any]:
    return _fresh(request, case_id)


@router.post(
    "/{case_id}/status",
    response={200: CaseOut, **error_responses(404, 409)},
    summary="Move the case along its lifecycle (409 invalid_transition when not allowed)",
)
def case_status_change(request: HttpRequest, case_id: Id, payload: StatusIn) -> dict[str, Any]:
    user = request_staff(request)
    case = access_case_by_id(user, case_id, change=True)
    services.case_status_change(case=case, status=payload.status, actor=user, reason=payload.reason)
    return _fresh(request, case_id)


@router.post(
    "/{case_id}/priority",
    response={200: CaseOut, **error_responses(404, 409)},
    summary="Change the case's priority",
)
def case_priority_change(request: HttpRequest, case_id: Id, payload: PriorityIn) -> dict[str, Any]:
    user = request_staff(request)
    case = access_case_by_id(user, case_id, change=True)
    services.case_priority_change(case=case, priority=payload.priority, actor=user)
    return _fresh(request, case_id)


@router.post(
    "/{case_id}/category",
    response={200: CaseOut, **error_responses(404, 409)},
    summary="Recategorise the case",
)
def case_category_change(request: HttpRequest, case_id: Id, payload: CategoryIn) -> dict[str, Any]:
    user = request_staff(request)
    case = access_case_by_id(user, case_id, change=True)
    category = category_by_id(payload.category_id)
    assert category is not None
    services.case_category_change(case=case, category=category, actor=user)
    return _fresh(request, case_id)


@router.post(
    "/{case_id}/assign",
    response={200: CaseOut, **error_responses(404, 409)},
    summary="Assign the case to a team and/or a member of staff",
)
def case_assign(request: HttpRequest, case_id: Id, payload: AssignIn) -> dict[str, Any]:
    user = request_staff(request)
    case = access_case_by_id(user, case_id, change=True)
    team = team_by_id(payload.team_id) if payload.team_id else None
    assignee = _staff(payload.assignee_id)
    assignment_check(user, team, assignee)
    services.case_assign(case=case, team=team, assignee=assignee, actor=user)
    return _fresh(request, case_id)


@router.get(
    "/{case_id}/messages",
    response={200: list[MessageOut], **error_responses(404)},
    summary="The case's messages, oldest first",
)
def case_message_list(request: HttpRequest, case_id: Id) -> list[dict[str, Any]]:
    case = access_case_by_id(request_staff(request), case_id)
    return [message_out(m) for m in case_messages(case=case)]


@router.post(
    "/{case_id}/messages/{message_id}/attachments",
    response={201: AttachmentOut, **error_responses(404, 409)},
    summary="Attach a file to one of the case's messages (multipart, field 'file')",
)
def attachment_upload(
    request: HttpRequest, case_id: Id, message_id: Id, file: File[UploadedFile]
) -> Status[dict[str, Any]]:
    user = request_staff(request)
    case = access_case_by_id(user, case_id, change=True)
    message = case_messages(case=case).filter(pk=message_id).first()
    if message is None:
        raise MessageNotFound(f"message {message_id} not found on this case", field="message_id")
    attachment = attachment_add(
        message=message,
        upload=file,
        filename=file.name or "attachment",
        declared_type=file.content_type,
        actor=user,
    )
    return Status(201, attachment_out(attachment))


@router.get(
    "/{case_id}/attachments/{attachment_id}",
    response={200: None, **error_responses(404)},
    summary="Download an attachment (always as a download, never shown inline)",
)
def attachment_download(request: HttpRequest, case_id: Id, attachment_id: Id) -> FileResponse:
    case = access_case_by_id(request_staff(request), case_id)
    attachment = Attachment.objects.filter(pk=attachment_id, message__case=case).first()
    if attachment is None:
        raise AttachmentNotFound(f"attachment {attachment_id} not found", field="attachment_id")
    response = FileResponse(
        attachment_open(attachment),
        as_attachment=True,
        filename=attachment.filename,
        content_type=attachment.content_type,
    )
    # The stream is decrypted as it is sent: its length is the upload's, not the file's on disk.
    response["Content-Length"] = str(attachment.size)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@router.get(
    "/{case_id}/notes",
    response={200: list[NoteOut], **error_responses(404)},
    summary="The case's internal notes",
)
def case_note_list(request: HttpRequest, case_id: Id) -> list[dict[str, Any]]:
    case = access_case_by_id(request_staff(request), case_id)
    return [note_out(n) for n in case_notes(case=case)]


@router.post(
    "/{case_id}/notes",
    response={201: NoteOut, **error_responses(404)},
    summary="Add an internal note (never sent to the customer)",
)
def case_note_add(request: HttpRequest, case_id: Id, payload: NoteIn) -> Status[dict[str, Any]]:
    user = request_staff(request)
    case = access_case_by_id(user, case_id, change=True)
    return Status(201, note_out(services.case_note_add(case=case, text=payload.text, actor=user)))


@router.put(
    "/{case_id}/tags",
    response={200: CaseOut, **error_responses(404, 409)},
    summary="Replace the case's tags",
)
def case_tags_set(request: HttpRequest, case_id: Id, payload: TagsIn) -> dict[str, Any]:
    user = request_staff(request)
    case = access_case_by_id(user, case_id, change=True)
    services.case_tags_set(case=case, tags=payload.tags, actor=user)
    return _fresh(request, case_id)


@router.post(
    "/{case_id}/merge",
    response={200: CaseOut, **error_responses(404, 409)},
    summary="Merge this case into another; answers the surviving case",
)
def case_merge(request: HttpRequest, case_id: Id, payload: MergeIn) -> dict[str, Any]:
    user = request_staff(request)
    source = access_case_by_id(user, case_id, change=True)
    target = access_case_by_id(user, payload.into_case_id, change=True)
    merged = services.case_merge(source=source, target=target, actor=user, reason=payload.reason)
    return _fresh(request, merged.pk)


@router.get(
    "/{case_id}/events",
    response={200: list[EventOut], **error_responses(404)},
    summary="Every change to the case, oldest first",
)
def case_event_list(request: HttpRequest, case_id: Id) -> list[dict[str, Any]]:
    case = access_case_by_id(request_staff(request), case_id)
    return [event_out(e) for e in case_events(case=case)]


@router.get(
    "/{case_id}/activity",
    response={200: WatchersOut, **error_responses(404)},
    summary="Who else is viewing or replying to this case",
)
def case_activity_get(request: HttpRequest, case_id: Id) -> dict[str, Any]:
    user = request_staff(request)
    case = access_case_by_id(user, case_id)
    return watchers_out(case_watchers(case=case, excluding=user))


@router.put(
    "/{case_id}/activity",
    response={200: WatchersOut, **error_responses(404)},
    summary="Say what I am doing on this case (every ~15 s); answers who else is on it",
)
def case_activity_put(request: HttpRequest, case_id: Id, payload: ActivityIn) -> dict[str, Any]:
    user = request_staff(request)
    # Anyone who sees the case may say they are viewing it; replying needs leave to change it.
    case = access_case_by_id(user, case_id, change=payload.activity == Activity.REPLYING)
    return watchers_out(case_activity_report(case=case, user=user, activity=payload.activity))


@router.delete(
    "/{case_id}/activity",
    response={204: None, **error_responses(404)},
    summary="I have closed this case",
)
def case_activity_delete(request: HttpRequest, case_id: Id) -> Status[None]:
    user = request_staff(request)
    case_activity_end(case=access_case_by_id(user, case_id), user=user)
    return Status(204, None)


@categories_router.get(
    "", response={200: list[CategoryOut], **error_responses()}, summary="The case taxonomy"
)
def categories(request: HttpRequest) -> list[dict[str, Any]]:
    require_perm(request_staff(request), "tickets.view_category")
    return [out for c in category_list() if (out := category_out(c)) is not None]
