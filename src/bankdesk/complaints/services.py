"""The complaint process: each step checked against where the complaint stands, written to
its record, recorded as a step in its case's history and audited, in one transaction.

A complaint is opened by the tickets app's `complaint_opened` signal whenever a case becomes
one — opened as a complaint on any channel, given a complaint category, heard by the assistant,
forwarded by a regulator — so there is never a complaint case without its record.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from bankdesk.complaints.choices import MOVES, ClassKind, ComplaintStatus, CustomerResponse, Step
from bankdesk.complaints.errors import ComplaintStepRefused, OwnerNotOnComplaintTeam
from bankdesk.complaints.models import Complaint, ComplaintClass
from bankdesk.complaints.suggestion import officer_choice_keep, suggest_on_commit
from bankdesk.lib.errors import InvalidInput
from bankdesk.lib.text import clean_text, is_unusable
from bankdesk.staff.models import Team, User
from bankdesk.tickets.choices import CaseStatus
from bankdesk.tickets.models import Case
from bankdesk.tickets.services import case_assign, case_complaint_step_record, case_status_change

TEXT_MAX = 4000
REFERENCE_MAX = 80
AMOUNT_MAX = Decimal("999999999999.99")


def complaint_open(
    *, case: Case, actor: User | None, on: str, at_creation: bool = False
) -> Complaint:
    """The record of a case that has just become a complaint (once: a second call returns it).
    Received when the case was opened, if it was opened as one; else now."""
    existing = Complaint.objects.filter(case=case).first()
    if existing is not None:
        return existing
    complaint = Complaint.objects.create(
        case=case,
        channel=case.channel,
        opened_on=on,
        received_at=case.created_at if at_creation else timezone.now(),
    )
    case_complaint_step_record(case=case, actor=actor, step=Step.OPENED, on=on)
    suggest_on_commit(complaint)  # after commit: the case's first message is there
    return complaint


def _locked(complaint: Complaint) -> Complaint:
    return Complaint.objects.select_for_update().select_related("case").get(pk=complaint.pk)


def checked_text(value: str, field: str, *, required: bool, limit: int = TEXT_MAX) -> str:
    """Text an officer wrote, cleaned and checked: storable, given when required, not too
    long. Every complaint record's free text goes through here."""
    if is_unusable(value):
        raise InvalidInput("contains characters that cannot be stored", field=field)
    value = clean_text(value)
    if required and not value:
        raise InvalidInput(f"{field} is required", field=field)
    if len(value) > limit:
        raise InvalidInput(f"{field} is at most {limit} characters", field=field)
    return value


def _move(complaint: Complaint, step: str) -> None:
    allowed, to = MOVES[step]
    if complaint.status not in allowed:
        raise ComplaintStepRefused(
            f"a complaint that is {complaint.status} cannot take the step {step}", field="step"
        )
    if to is not None:
        complaint.status = to


def _save(complaint: Complaint, actor: User | None, step: str, **data: object) -> Complaint:
    complaint.updated_at = timezone.now()
    complaint.save()
    case_complaint_step_record(case=complaint.case, actor=actor, step=step, **data)
    return complaint


@transaction.atomic
def complaint_owner_set(*, complaint: Complaint, owner: User, actor: User) -> Complaint:
    """Name the owner, a member of a complaint team who is not involved in what the complaint
    is about; the case goes to them on that team."""
    complaint = _locked(complaint)
    if complaint.status == ComplaintStatus.CLOSED:
        raise ComplaintStepRefused("a closed complaint keeps its owner", field="owner_id")
    team = (
        Team.objects.filter(is_complaint_team=True, members=owner).order_by("pk").first()
        if owner.is_active
        else None
    )
    if team is None:
        raise OwnerNotOnComplaintTeam(
            f"{owner} is not a member of a complaint team", field="owner_id"
        )
    # The case's assignment checks recusal and team membership again, under the case's lock.
    case_assign(case=complaint.case, team=team, assignee=owner, actor=actor)
    complaint.owner = owner
    return _save(complaint, actor, Step.OWNER, owner_id=owner.pk)


@dataclass(frozen=True)
class Details:
    demand: str = ""
    disputed_amount: Decimal | None = None
    regulator_forwarded: bool = False
    regulator_reference: str = ""


@transaction.atomic
def complaint_details_set(*, complaint: Complaint, details: Details, actor: User) -> Complaint:
    """What the customer asks for, the amount in dispute, and whether a regulator forwarded it
    (with the regulator's reference)."""
    complaint = _locked(complaint)
    demand = checked_text(details.demand, "demand", required=False)
    amount = details.disputed_amount
    if amount is not None and not Decimal("0") <= amount <= AMOUNT_MAX:
        raise InvalidInput("the disputed amount must be between 0 and 999,999,999,999.99",
                           field="disputed_amount")  # fmt: skip
    reference = clean_text(details.regulator_reference)
    if len(reference) > REFERENCE_MAX or is_unusable(details.regulator_reference):
        raise InvalidInput("the regulator's reference is at most 80 characters",
                           field="regulator_reference")  # fmt: skip
    if reference and not details.regulator_forwarded:
        raise InvalidInput("a regulator's reference belongs to a forwarded complaint",
                           field="regulator_reference")  # fmt: skip
    complaint.demand, complaint.disputed_amount = demand, amount
    complaint.regulator_forwarded, complaint.regulator_reference = (
        details.regulator_forwarded,
        reference,
    )
    return _save(complaint, actor, Step.DETAILS, regulator_forwarded=details.regulator_forwarded)


def _class(value: ComplaintClass | None, kind: str, field: str) -> ComplaintClass | None:
    if value is None:
        return None
    if value.kind != kind:
        raise InvalidInput(f"{value.code} is not a {kind}", field=field)
    if not value.is_active:
        raise InvalidInput(f"{value.code} is retired", field=field)
    return value


@transaction.atomic
def complaint_classify(
    *,
    complaint: Complaint,
    product: ComplaintClass | None,
    issue: ComplaintClass | None,
    cause: ComplaintClass | None,
    actor: User,
) -> Complaint:
    complaint = _locked(complaint)
    complaint.product = _class(product, ClassKind.PRODUCT, "product_id")
    complaint.issue = _class(issue, ClassKind.ISSUE, "issue_id")
    complaint.cause = _class(cause, ClassKind.CAUSE, "cause_id")
    officer_choice_keep(complaint, product, issue)
    return _save(
        complaint,
        actor,
        Step.CLASSIFIED,
        product=product.code if product else None,
        issue=issue.code if issue else None,
        cause=cause.code if cause else None,
    )


def _case_opened(complaint: Complaint, actor: User) -> None:
    """Work on the complaint is work on its case: a new case is open from the first step."""
    if complaint.case.status == CaseStatus.NEW:
        complaint.case = case_status_change(
            case=complaint.case, status=CaseStatus.OPEN, actor=actor
        )


@transaction.atomic
def complaint_acknowledge(*, complaint: Complaint, actor: User) -> Complaint:
    """The customer has been told the complaint is received, who handles it and by when."""
    complaint = _locked(complaint)
    _move(complaint, Step.ACKNOWLEDGED)
    complaint.acknowledged_at = timezone.now()
    _case_opened(complaint, actor)
    return _save(complaint, actor, Step.ACKNOWLEDGED)


@transaction.atomic
def complaint_investigate(*, complaint: Complaint, actor: User) -> Complaint:
    complaint = _locked(complaint)
    _move(complaint, Step.INVESTIGATING)
    _case_opened(complaint, actor)
    return _save(complaint, actor, Step.INVESTIGATING)


@transaction.atomic
def complaint_decide(*, complaint: Complaint, decision: str, remedy: str, actor: User) -> Complaint:
    """The bank's decision and what it does about it (a refund, an apology, a correction)."""
    complaint = _locked(complaint)
    decision = checked_text(decision, "decision", required=True)
    remedy = checked_text(remedy, "remedy", required=False)
    if complaint.owner_id is None:
        raise ComplaintStepRefused("name the complaint's owner first", field="owner_id")
    _move(complaint, Step.DECIDED)
    complaint.decision, complaint.remedy = decision, remedy
    complaint.decided_at = timezone.now()
    complaint.customer_response = ""
    return _save(complaint, actor, Step.DECIDED)


@transaction.atomic
def complaint_response_record(*, complaint: Complaint, response: str, actor: User) -> Complaint:
    """The customer accepted the decision, or objected: an objection sends it back to be
    investigated again."""
    complaint = _locked(complaint)
    if response not in CustomerResponse.values:
        raise InvalidInput("the response is accepted or objected", field="response")
    _move(complaint, Step.RESPONSE)
    complaint.customer_response = response
    if response == CustomerResponse.OBJECTED:
        complaint.status = ComplaintStatus.INVESTIGATING
    return _save(complaint, actor, Step.RESPONSE, response=response)


@transaction.atomic
def complaint_close(*, complaint: Complaint, actor: User) -> Complaint:
    """Close a decided complaint; its case is resolved with it (if it was not already)."""
    complaint = _locked(complaint)
    _move(complaint, Step.CLOSED)
    complaint.closed_at = timezone.now()
    _save(complaint, actor, Step.CLOSED)
    case = complaint.case
    if case.status in {CaseStatus.NEW}:
        case = case_status_change(case=case, status=CaseStatus.OPEN, actor=actor)
    if case.status not in {CaseStatus.RESOLVED, CaseStatus.CLOSED}:
        case_status_change(case=case, status=CaseStatus.RESOLVED, actor=actor)
    return complaint


@transaction.atomic
def complaint_reopen(*, complaint: Complaint, reason: str, actor: User) -> Complaint:
    complaint = _locked(complaint)
    reason = checked_text(reason, "reason", required=True)
    _move(complaint, Step.REOPENED)
    complaint.reopened += 1
    complaint.closed_at = None
    complaint.customer_response = ""
    case = complaint.case
    if case.status == CaseStatus.RESOLVED:
        case_status_change(case=case, status=CaseStatus.OPEN, actor=actor, reason=reason)
    return _save(complaint, actor, Step.REOPENED, reason=reason)
