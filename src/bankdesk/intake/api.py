"""Intake API: call records from the contact-centre platform, and branch and terminal reports.

Callers are the integrations and staff who work cases (an integration user is an agent whose
write token the platform holds); read-only tokens and other roles are refused. A record sent
again with the same call id or visit id changes nothing and answers 200 with the case it is on.
"""

from __future__ import annotations

from typing import Annotated, Any

from django.http import HttpRequest
from ninja import File, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field, StringConstraints

from bankdesk.customers.access import access_customer_by_id
from bankdesk.intake.channels.branch.visits import BranchVisit, branch_visit_receive
from bankdesk.intake.channels.voice.calls import CallRecord, call_receive, call_recording_add
from bankdesk.intake.choices import IntakeOutcome
from bankdesk.intake.services import IntakeResult
from bankdesk.lib.api import AwareDatetime, Id, RequiredText, Text, error_responses
from bankdesk.staff.auth import request_staff, require_perm
from bankdesk.staff.errors import BranchNotFound, StaffNotFound
from bankdesk.staff.models import Branch, User
from bankdesk.staff.selectors import staff_get
from bankdesk.tickets.schemas import AttachmentOut, attachment_out

router = Router(tags=["intake"])

HttpUrl = Annotated[str, StringConstraints(max_length=2000, pattern=r"^https?://[^\s]+$")]
CallId = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=r"^[^\s]+$")]


class CallIn(Schema):
    call_id: CallId = Field(description="The platform's id for the call, unique")
    caller: Text(40) = Field(default="", description="Caller's number; empty when withheld")  # type: ignore[valid-type]
    called: RequiredText(40) = Field(description="The number dialled (hotline)")  # type: ignore[valid-type]
    started_at: AwareDatetime
    duration_seconds: int = Field(ge=0, le=24 * 3600)
    ivr_path: list[RequiredText(100)] = Field(default_factory=list, max_length=50)  # type: ignore[valid-type]
    queue: Text(100) = ""  # type: ignore[valid-type]
    agent: Id | RequiredText(150) | None = Field(  # type: ignore[valid-type]
        default=None, description="The agent who took the call: staff id or username"
    )
    recording_url: HttpUrl | None = Field(
        default=None, description="Where the platform keeps the recording (http/https)"
    )
    # Room is left for the call record around it within a message's 100,000 characters.
    transcript: Text(90_000) = ""  # type: ignore[valid-type]


class BranchVisitIn(Schema):
    branch: RequiredText(40) = Field(description="The branch's code")  # type: ignore[valid-type]
    text: RequiredText(10_000)  # type: ignore[valid-type]
    visit_id: Text(200) = Field(  # type: ignore[valid-type]
        default="", description="The reporting system's own id; a retry with it changes nothing"
    )
    device_id: Text(100) = Field(  # type: ignore[valid-type]
        default="", description="A self-service terminal's id: the report is then a terminal's"
    )
    transaction_reference: Text(100) = ""  # type: ignore[valid-type]
    fault_code: Text(50) = ""  # type: ignore[valid-type]
    customer_id: Id | None = None
    customer_phone: Text(40) = ""  # type: ignore[valid-type]


class IntakeOut(Schema):
    outcome: IntakeOutcome
    case_id: int | None
    case_number: str | None
    message_id: int | None


class RecordingOut(Schema):
    call_id: str
    attachment: AttachmentOut


def _intake_out(result: IntakeResult) -> Status[dict[str, Any]]:
    status = 200 if result.outcome == IntakeOutcome.DUPLICATE else 201
    return Status(
        status,
        {
            "outcome": result.outcome,
            "case_id": result.case.pk if result.case else None,
            "case_number": result.case.number if result.case else None,
            "message_id": result.message.pk if result.message else None,
        },
    )


def _agent(value: int | str | None) -> User | None:
    if value is None:
        return None
    if isinstance(value, int):
        found = staff_get(staff_id=value)
    else:
        found = User.objects.filter(username=value, is_active=True).first()
    if found is None:
        raise StaffNotFound(f"staff member {value} not found", field="agent")
    return found


@router.post(
    "/calls",
    response={200: IntakeOut, 201: IntakeOut, **error_responses(404)},
    summary="Record a phone/IVR call on the caller's case (200 when already recorded)",
)
def call_create(request: HttpRequest, payload: CallIn) -> Status[dict[str, Any]]:
    user = request_staff(request)
    require_perm(user, "tickets.add_case")
    record = CallRecord(
        call_id=payload.call_id,
        caller=payload.caller,
        called=payload.called,
        started_at=payload.started_at,
        duration_seconds=payload.duration_seconds,
        ivr_path=tuple(payload.ivr_path),
        queue=payload.queue,
        agent=_agent(payload.agent),
        recording_url=payload.recording_url or "",
        transcript=payload.transcript,
    )
    return _intake_out(call_receive(record))


@router.post(
    "/calls/{call_id}/recording",
    response={200: RecordingOut, 201: RecordingOut, **error_responses(404, 409)},
    summary="Upload a call's recording as evidence (multipart, field 'file', audio/*)",
)
def call_recording_upload(
    request: HttpRequest, call_id: CallId, file: File[UploadedFile]
) -> Status[dict[str, Any]]:
    user = request_staff(request)
    require_perm(user, "tickets.add_case")
    attachment, created = call_recording_add(
        call_id=call_id,
        upload=file,
        filename=file.name or "recording",
        declared_type=file.content_type,
        actor=user,
    )
    body = {"call_id": call_id, "attachment": attachment_out(attachment)}
    return Status(201 if created else 200, body)


@router.post(
    "/branch-visits",
    response={200: IntakeOut, 201: IntakeOut, **error_responses(404)},
    summary="Report a branch walk-in, or a self-service terminal's fault (with device_id)",
)
def branch_visit_create(request: HttpRequest, payload: BranchVisitIn) -> Status[dict[str, Any]]:
    user = request_staff(request)
    require_perm(user, "tickets.add_case")
    branch = Branch.objects.filter(code=payload.branch).first()
    if branch is None:
        raise BranchNotFound(f"branch {payload.branch} not found", field="branch")
    customer = access_customer_by_id(user, payload.customer_id) if payload.customer_id else None
    visit = BranchVisit(
        branch=branch,
        text=payload.text,
        visit_id=payload.visit_id,
        device_id=payload.device_id,
        transaction_reference=payload.transaction_reference,
        fault_code=payload.fault_code,
        customer=customer,
        customer_phone=payload.customer_phone,
    )
    return _intake_out(branch_visit_receive(visit))
