"""Extending a complaint's statutory deadline: asked for with a reason, approved by a supervisor
who is not the one asking, and told to the complainant on their channel.

Nothing moves until the approval: a request is only a request, a refusal changes no clock,
and the clock's extension (`sla.extensions.sla_clock_extend`) is reached from here alone, in
the approval's transaction, with the notice to the customer and the audit entries.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from bankdesk.complaints.choices import ComplaintStatus, ExtensionStatus, Step
from bankdesk.complaints.models import Complaint, ComplaintExtension
from bankdesk.complaints.services import checked_text
from bankdesk.intake.services import case_reply, case_reply_channels
from bankdesk.lib.channels import Channel
from bankdesk.lib.errors import Conflict, InvalidInput, PermissionDenied
from bankdesk.lib.languages import Language
from bankdesk.lib.text import clean_text, is_unusable
from bankdesk.security.audit import audit_record
from bankdesk.sla.extensions import clock_extendable, clock_next_limit, sla_clock_extend
from bankdesk.sla.models import SlaClock
from bankdesk.staff.models import User
from bankdesk.tickets.services import case_complaint_step_record

APPROVE = "complaints.approve_complaintextension"
DAY_MINUTES = 24 * 60


class ExtensionNotAllowed(Conflict):
    code = "complaint_extension_not_allowed"


def _reason(value: str, field: str) -> str:
    if not clean_text(value) and not is_unusable(value):
        raise InvalidInput("give the reason", field=field, code="reason_required")
    return checked_text(value, field, required=True)


def statutory_clocks(complaint: Complaint) -> list[SlaClock]:
    """The complaint's statutory clocks (those of a regulator's policy), oldest first."""
    return list(
        SlaClock.objects.filter(case_id=complaint.case_id, target__policy__regulator__gt="")
        .select_related("target__policy")
        .order_by("id")
    )


@transaction.atomic
def complaint_extension_request(
    *, complaint: Complaint, clock: SlaClock, reason: str, actor: User
) -> ComplaintExtension:
    """Ask for the clock's next longer limit. The clock is unchanged until a supervisor approves."""
    complaint = Complaint.objects.select_for_update().get(pk=complaint.pk)
    reason = _reason(reason, "reason")
    clock = SlaClock.objects.select_related("target__policy").get(pk=clock.pk)
    if clock.case_id != complaint.case_id or not clock.target.policy.regulator:
        raise InvalidInput("only this complaint's statutory deadline can be extended",
                           field="clock_id")  # fmt: skip
    if complaint.status == ComplaintStatus.CLOSED:
        raise ExtensionNotAllowed("a closed complaint's deadline is not extended", field="clock_id")
    why_not = clock_extendable(clock)
    if why_not:
        raise ExtensionNotAllowed(f"{clock.name}: {why_not}", field="clock_id")
    if ComplaintExtension.objects.filter(clock=clock, status=ExtensionStatus.REQUESTED).exists():
        raise ExtensionNotAllowed("an extension of this deadline is already awaiting approval",
                                  field="clock_id")  # fmt: skip
    limit = clock_next_limit(clock)
    assert limit is not None  # clock_extendable checked it
    extension = ComplaintExtension.objects.create(
        complaint=complaint,
        clock=clock,
        step=clock.extension + 1,
        minutes=limit,
        reason=reason,
        requested_by=actor,
        due_before=clock.due_at,
    )
    case_complaint_step_record(
        case=complaint.case, actor=actor, step=Step.EXTENSION_REQUESTED, clock=clock.name,
        days=limit // DAY_MINUTES,
    )  # fmt: skip
    audit_record(actor=actor, action="complaints.extension.request", target=extension,
                 fields=["reason"], reason=reason)  # fmt: skip
    return extension


def _notice_text(extension: ComplaintExtension, language: str) -> str:
    case = extension.complaint.case
    with translation.override(language):
        due = timezone.localtime(extension.due_after) if extension.due_after else None
        return _(
            "Your complaint %(number)s needs more time to investigate properly. Under the "
            "complaint rules we have extended the time for our decision to %(days)d days; "
            "you will have it by %(due)s at the latest. Reason: %(reason)s"
        ) % {
            "number": case.number,
            "days": extension.minutes // DAY_MINUTES,
            "due": formats.date_format(due, "DATETIME_FORMAT") if due else "—",
            "reason": extension.reason,
        }


@transaction.atomic
def complaint_extension_decide(
    *, extension: ComplaintExtension, approve: bool, note: str, actor: User
) -> ComplaintExtension:
    """Approve (the deadline moves, and the complainant is told on their channel) or refuse
    (nothing moves). Only a supervisor may decide, and never on their own request."""
    extension = (
        ComplaintExtension.objects.select_for_update(of=("self",))
        .select_related("complaint__case__customer", "clock")
        .get(pk=extension.pk)
    )
    if not actor.has_perm(APPROVE):
        raise PermissionDenied("only a supervisor approves an extension", field="extension_id",
                               code="extension_approver_not_supervisor")  # fmt: skip
    if extension.requested_by_id == actor.pk:
        raise PermissionDenied("an extension is approved by someone other than who asked",
                               field="extension_id", code="extension_own_request")  # fmt: skip
    if extension.status != ExtensionStatus.REQUESTED:
        raise ExtensionNotAllowed(f"this extension is already {extension.status}",
                                  field="extension_id")  # fmt: skip
    note = _reason(note, "note") if not approve or note.strip() else ""
    extension.decided_by, extension.decided_at = actor, timezone.now()
    extension.decision_note = note
    case = extension.complaint.case
    if not approve:
        extension.status = ExtensionStatus.REFUSED
        extension.save()
        case_complaint_step_record(case=case, actor=actor, step=Step.EXTENSION_REFUSED,
                                   clock=extension.clock.name)  # fmt: skip
        audit_record(actor=actor, action="complaints.extension.refuse", target=extension,
                     fields=["status"], reason=note)  # fmt: skip
        return extension
    clock = sla_clock_extend(clock=extension.clock, actor=actor, reason=extension.reason)
    extension.status = ExtensionStatus.APPROVED
    extension.due_after = clock.due_at
    customer = case.customer
    language = customer.preferred_language if customer is not None else Language.ZH_HANS
    # The first channel that reaches the customer; with none, the notice is recorded on the
    # case as said by phone, for the officer to call.
    reaching = case_reply_channels(case)
    channel = reaching[0] if reaching else Channel.PHONE
    case_reply(case=case, text=_notice_text(extension, language), actor=actor, channel=channel)
    extension.notice_sent_at = timezone.now()
    extension.save()
    case_complaint_step_record(
        case=case, actor=actor, step=Step.EXTENSION_APPROVED, clock=clock.name,
        days=extension.minutes // DAY_MINUTES,
    )  # fmt: skip
    audit_record(actor=actor, action="complaints.extension.approve", target=extension,
                 fields=["status"], reason=note or extension.reason)  # fmt: skip
    return extension
