"""Phone and IVR: call records from the contact-centre platform, and their recordings.

A call becomes a message on the caller's case, its text the call record as staff read it
(who called which number, when and for how long, the IVR path, the queue, the agent, the
recording and the transcript). The recording is evidence in a complaint: kept either as the
platform's URL or uploaded as a file onto the call's message, with its SHA-256.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import datetime
from typing import IO

from django.db import transaction
from django.utils import timezone

from bankdesk.customers.errors import InvalidIdentity
from bankdesk.customers.normalise import phone_e164
from bankdesk.intake.channels.base import InboundMessage
from bankdesk.intake.services import IntakeResult, inbound_receive
from bankdesk.lib.channels import Channel
from bankdesk.lib.errors import Conflict, InvalidInput, NotFound
from bankdesk.staff.models import User
from bankdesk.tickets.attachments import (
    MAX_BYTES,
    attachment_add,
    safe_content_type,
    safe_filename,
)
from bankdesk.tickets.models import Attachment, Message

RECORDING_MAX_BYTES = MAX_BYTES


class CallNotFound(NotFound):
    code = "call_not_found"


class RecordingExists(Conflict):
    code = "recording_exists"


@dataclass(frozen=True)
class CallRecord:
    call_id: str
    caller: str
    called: str
    started_at: datetime
    duration_seconds: int
    ivr_path: tuple[str, ...] = ()
    queue: str = ""
    agent: User | None = None
    recording_url: str = ""
    transcript: str = ""


def _caller_phone(raw: str) -> str:
    if not raw:
        return ""  # number withheld
    try:
        return phone_e164(raw)
    except InvalidIdentity as exc:
        raise InvalidInput(f"caller is not a phone number: {exc.message}", field="caller") from exc


def call_text(record: CallRecord, caller: str) -> str:
    """The call record as staff read it on the case."""
    started = timezone.localtime(record.started_at).strftime("%Y-%m-%d %H:%M:%S %Z")
    minutes, seconds = divmod(record.duration_seconds, 60)
    lines = [
        f"Call {record.call_id}: {caller or 'number withheld'} → {record.called}",
        f"Started: {started}, duration {minutes}:{seconds:02d}",
    ]
    if record.ivr_path:
        lines.append("IVR: " + " › ".join(record.ivr_path))
    if record.queue:
        lines.append(f"Queue: {record.queue}")
    if record.agent is not None:
        lines.append(f"Agent: {record.agent.get_username()}")
    if record.recording_url:
        lines.append(f"Recording: {record.recording_url}")
    if record.transcript:
        lines += ["", "Transcript:", record.transcript]
    return "\n".join(lines)


def call_receive(record: CallRecord) -> IntakeResult:
    """Put one call on the caller's case. The same call id again changes nothing."""
    caller = _caller_phone(record.caller)
    return inbound_receive(
        InboundMessage(
            channel=Channel.PHONE,
            external_id=record.call_id,
            text=call_text(record, caller),
            sender_kind="phone" if caller else "",
            sender_value=caller,
            # Calls from one number continue its open case, as texts from it do.
            thread_id=caller,
            received_at=record.started_at,
            metadata={
                "ivr_path": list(record.ivr_path),
                "queue": record.queue,
                "agent_id": record.agent.pk if record.agent else None,
                "duration_seconds": record.duration_seconds,
            },
        )
    )


@transaction.atomic
def call_recording_add(
    *, call_id: str, upload: IO[bytes], filename: str, declared_type: str | None, actor: User
) -> tuple[Attachment, bool]:
    """Keep a call's recording as evidence on its message; says whether it is new.

    Uploading the same file again (a retry) answers the one already kept; a different file
    for a call that has its recording is refused, as evidence is never silently replaced.
    """
    message = (
        Message.objects.select_for_update()
        .filter(channel=Channel.PHONE, external_id=call_id)
        .first()
    )
    if message is None:
        raise CallNotFound(f"call {call_id} not found", field="call_id")
    if not safe_content_type(safe_filename(filename), declared_type).startswith("audio/"):
        raise InvalidInput("a recording must be an audio file (audio/*)", field="file")
    data = upload.read(RECORDING_MAX_BYTES + 1)
    if len(data) > RECORDING_MAX_BYTES:
        raise InvalidInput(
            f"a recording may be at most {RECORDING_MAX_BYTES // (1024 * 1024)} MiB", field="file"
        )
    digest = hashlib.sha256(data).hexdigest()
    earlier = message.attachments.order_by("id").first()
    if earlier is not None:
        if earlier.sha256 == digest:
            return earlier, False
        raise RecordingExists("this call already has a different recording", field="file")
    attachment = attachment_add(
        message=message,
        upload=io.BytesIO(data),
        filename=filename,
        declared_type=declared_type,
        actor=actor,
    )
    return attachment, True
