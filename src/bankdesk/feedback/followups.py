"""Follow-up calls (回访): planned when a case is resolved, worked from the call queue.

Which resolved cases get one is the bank's data (`FollowUpRule`); complaints always do. The
call is due within the rule's business hours on the case's calendar. Each attempt is kept with
its outcome; a call that finds nobody is tried again on the retry schedule
(BANKDESK_FOLLOWUP_RETRY_HOURS, business hours) and, after the last, the customer counts as
unreachable. A customer who is reached gives a verdict: an unhappy one reopens the case, or
makes it a complaint when the customer says so.

A case has one follow-up however often it is resolved; a case reopened by an unhappy verdict
and resolved again is called again on the same follow-up (its next round).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from bankdesk.customers.choices import Tier
from bankdesk.feedback.choices import (
    FOLLOW_UP_FINISHED,
    AttemptOutcome,
    FollowUpStatus,
    Verdict,
)
from bankdesk.feedback.errors import FollowUpFinished
from bankdesk.feedback.models import FollowUp, FollowUpAttempt, FollowUpRule
from bankdesk.lib.channels import Channel
from bankdesk.lib.errors import InvalidInput
from bankdesk.lib.redaction import redact_authentication_data
from bankdesk.security.audit import audit_record
from bankdesk.sla.clocks import case_calendar
from bankdesk.sla.snapshot import sla_settings
from bankdesk.staff.models import User
from bankdesk.tickets.choices import CaseStatus, EventKind
from bankdesk.tickets.models import Case, Category
from bankdesk.tickets.selectors import case_customer_tier
from bankdesk.tickets.services import (
    case_complaint_mark,
    case_create,
    case_feedback_record,
    case_link,
    case_status_change,
)

# A complaint no rule speaks of is still called back, within this many business hours.
COMPLAINT_DUE_HOURS = 24
REMARKS_MAX = 2000
CALL_BACK_HORIZON = timedelta(days=30)


def follow_up_rule_match(*, case: Case) -> FollowUpRule | None:
    """The rule that decides whether `case` is followed up: the first active one that fits."""
    tier = case_customer_tier(case) or ""
    # The category and those above it, from the category tree the SLA settings keep in memory.
    lineage = sla_settings().category_path(case.category_id)
    return (
        FollowUpRule.objects.filter(is_active=True)
        .filter(Q(category__isnull=True) | Q(category_id__in=lineage))
        .filter(Q(channel="") | Q(channel=case.channel))
        .filter(Q(customer_tier="") | Q(customer_tier=tier))
        .filter(Q(is_complaint__isnull=True) | Q(is_complaint=case.is_complaint))
        .order_by("position", "id")
        .first()
    )


def _business_hours_after(case: Case, start: datetime, hours: int) -> datetime:
    return case_calendar(case).add_business_minutes(start, hours * 60)


def follow_up_plan(
    *, case: Case, actor: User | None, now: datetime | None = None
) -> FollowUp | None:
    """The follow-up of a case just resolved (the caller holds the case's lock): a new one when
    the rules ask for it, the same one called again after an unhappy verdict reopened the case,
    else whatever the case already has."""
    now = now or timezone.now()
    existing = FollowUp.objects.select_for_update().filter(case=case).first()
    if existing is not None:
        if existing.status == FollowUpStatus.DONE and existing.verdict == Verdict.UNSATISFIED:
            hours = existing.rule.due_hours if existing.rule else COMPLAINT_DUE_HOURS
            existing.status = FollowUpStatus.OPEN
            existing.round += 1
            existing.verdict = ""
            existing.completed_at = None
            existing.completed_by = None
            existing.due_at = _business_hours_after(case, now, hours)
            existing.next_attempt_at = now
            existing.save()
            audit_record(
                actor=actor,
                action="followup.round",
                target=existing,
                fields=["status", "round", "due_at"],
            )
        return existing
    rule = follow_up_rule_match(case=case)
    wanted = rule is not None and rule.follow_up
    if not (wanted or case.is_complaint):
        return None
    hours = rule.due_hours if rule is not None and rule.follow_up else COMPLAINT_DUE_HOURS
    follow_up = FollowUp.objects.create(
        case=case,
        customer_id=case.customer_id,
        rule=rule if wanted else None,
        resolved_at=now,
        due_at=_business_hours_after(case, now, hours),
        next_attempt_at=now,
        agent_id=case.assignee_id,
        team_id=case.team_id,
        channel=case.channel,
        category_id=case.category_id,
        is_complaint=case.is_complaint,
    )
    # Not audited apart: it follows from the resolution, which is (a case event and its entry).
    return follow_up


@dataclass(frozen=True)
class CallResult:
    """What an agent records of one call."""

    outcome: str
    note: str = ""
    call_back_at: datetime | None = None
    # When reached:
    verdict: str = ""
    remarks: str = ""
    wants_complaint: bool = False
    csat: int | None = None
    nps: int | None = None


def _checked(result: CallResult, now: datetime) -> CallResult:
    if result.outcome not in AttemptOutcome.values:
        raise InvalidInput(_("unknown outcome"), field="outcome")
    if len(result.note) > REMARKS_MAX:
        raise InvalidInput(_("at most %(n)d characters") % {"n": REMARKS_MAX}, field="note")
    if len(result.remarks) > REMARKS_MAX:
        raise InvalidInput(_("at most %(n)d characters") % {"n": REMARKS_MAX}, field="remarks")
    if result.outcome == AttemptOutcome.REACHED:
        if result.verdict not in Verdict.values:
            raise InvalidInput(_("say how satisfied the customer is"), field="verdict")
    elif result.verdict or result.csat is not None or result.nps is not None:
        raise InvalidInput(_("a verdict needs the customer reached"), field="verdict")
    if result.wants_complaint and result.verdict != Verdict.UNSATISFIED:
        raise InvalidInput(_("a complaint comes with an unhappy verdict"), field="wants_complaint")
    if result.outcome == AttemptOutcome.CALL_BACK:
        at = result.call_back_at
        if at is None:
            raise InvalidInput(_("say when to call back"), field="call_back_at")
        if not now < at <= now + CALL_BACK_HORIZON:
            raise InvalidInput(_("call back within the next 30 days"), field="call_back_at")
    elif result.call_back_at is not None:
        raise InvalidInput(
            _("a time to call back goes with 'call back later'"), field="call_back_at"
        )
    return CallResult(
        outcome=result.outcome,
        note=redact_authentication_data(result.note.strip()),
        call_back_at=result.call_back_at,
        verdict=result.verdict,
        remarks=redact_authentication_data(result.remarks.strip()),
        wants_complaint=result.wants_complaint,
        csat=result.csat,
        nps=result.nps,
    )


@transaction.atomic
def follow_up_call_record(
    *, follow_up: FollowUp, result: CallResult, actor: User, now: datetime | None = None
) -> FollowUp:
    """One call on an open follow-up and what it changes: the retry schedule, the verdict, and
    for an unhappy customer the case reopened or made a complaint."""
    now = now or timezone.now()
    result = _checked(result, now)
    follow_up = FollowUp.objects.select_for_update().select_related("case").get(pk=follow_up.pk)
    if follow_up.status in FOLLOW_UP_FINISHED:
        raise FollowUpFinished(_("this follow-up is finished"), field="follow_up")
    FollowUpAttempt.objects.create(
        follow_up=follow_up,
        at=now,
        by=actor,
        outcome=result.outcome,
        note=result.note,
        call_back_at=result.call_back_at,
    )
    follow_up.attempts += 1
    follow_up.owner = follow_up.owner or actor
    _apply(follow_up, result, actor, now)
    follow_up.save()
    case_feedback_record(
        case=follow_up.case,
        kind=EventKind.FOLLOW_UP,
        actor=actor,
        outcome=result.outcome,
        status=follow_up.status,
        verdict=result.verdict,
    )
    if result.outcome == AttemptOutcome.REACHED:
        _answers_on_call(follow_up, result, actor, now)
        if result.verdict == Verdict.UNSATISFIED:
            _unhappy(follow_up, result, actor)
    return follow_up


def _apply(follow_up: FollowUp, result: CallResult, actor: User, now: datetime) -> None:
    outcome = result.outcome
    if outcome == AttemptOutcome.REACHED:
        follow_up.status = FollowUpStatus.DONE
        follow_up.verdict = result.verdict
        follow_up.remarks = result.remarks
        follow_up.completed_at = now
        follow_up.completed_by = actor
    elif outcome == AttemptOutcome.REFUSED:
        follow_up.status = FollowUpStatus.REFUSED
        follow_up.completed_at = now
        follow_up.completed_by = actor
    elif outcome == AttemptOutcome.WRONG_NUMBER:
        follow_up.status = FollowUpStatus.UNREACHABLE
        follow_up.completed_at = now
        follow_up.completed_by = actor
    elif outcome == AttemptOutcome.CALL_BACK:
        assert result.call_back_at is not None  # checked
        follow_up.next_attempt_at = result.call_back_at
    else:  # no answer: the retry schedule, then unreachable
        retries = settings.BANKDESK_FOLLOWUP_RETRY_HOURS
        unanswered = follow_up.tries.filter(outcome=AttemptOutcome.NO_ANSWER).count()
        if unanswered > len(retries):
            follow_up.status = FollowUpStatus.UNREACHABLE
            follow_up.completed_at = now
            follow_up.completed_by = actor
        else:
            follow_up.next_attempt_at = _business_hours_after(
                follow_up.case, now, retries[unanswered - 1]
            )


def _answers_on_call(follow_up: FollowUp, result: CallResult, actor: User, now: datetime) -> None:
    if result.csat is None and result.nps is None:
        return
    from bankdesk.feedback.surveys import survey_answer_on_call

    survey_answer_on_call(
        case=follow_up.case, csat=result.csat, nps=result.nps, actor=actor, now=now
    )


def _unhappy(follow_up: FollowUp, result: CallResult, actor: User) -> None:
    """Reopen the case (a complaint when the customer says so); a case already closed for
    good gets a new one, linked to it."""
    case = follow_up.case
    reason = "follow-up: customer not satisfied"
    if case.status == CaseStatus.RESOLVED:
        case = case_status_change(case=case, status=CaseStatus.OPEN, actor=actor, reason=reason)
        if result.wants_complaint:
            case_complaint_mark(case=case, actor=actor, on="follow_up")
        return
    if case.status != CaseStatus.CLOSED:
        if result.wants_complaint:
            case_complaint_mark(case=case, actor=actor, on="follow_up")
        return  # already being worked again
    fresh = case_create(
        subject=case.subject,
        channel=Channel.PHONE,
        actor=actor,
        customer=case.customer,
        category=case.category,
        team=case.team,
        language=case.language,
        text=result.remarks,
        is_complaint=result.wants_complaint,
        complaint_on="follow_up",
        route=case.team_id is None,
    )
    case_link(case=fresh, referred=case, actor=actor)


@transaction.atomic
def follow_up_take(*, follow_up: FollowUp, actor: User) -> FollowUp:
    """An agent takes an open follow-up to call: it shows as theirs in the queue."""
    follow_up = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
    if follow_up.status in FOLLOW_UP_FINISHED:
        raise FollowUpFinished(_("this follow-up is finished"), field="follow_up")
    follow_up.owner = actor
    follow_up.save(update_fields=["owner"])
    audit_record(actor=actor, action="followup.take", target=follow_up, fields=["owner"])
    return follow_up


RULE_NAME_MAX = 120
DUE_HOURS_MAX = 24 * 30


@dataclass(frozen=True)
class RuleSpec:
    """A follow-up rule as the bank writes it."""

    name: str
    position: int
    is_active: bool
    category: Category | None
    channel: str
    customer_tier: str
    is_complaint: bool | None
    follow_up: bool
    due_hours: int


def _rule_checked(spec: RuleSpec) -> RuleSpec:
    if not spec.name.strip() or len(spec.name) > RULE_NAME_MAX:
        raise InvalidInput(_("Give the rule a name of at most 120 characters."), field="name")
    if not 0 <= spec.position <= 2_147_483_647:
        raise InvalidInput(_("The order is a whole number from 0 up."), field="position")
    if spec.channel and spec.channel not in Channel.values:
        raise InvalidInput(_("unknown channel"), field="channel")
    if spec.customer_tier and spec.customer_tier not in Tier.values:
        raise InvalidInput(_("unknown customer tier"), field="customer_tier")
    if not 1 <= spec.due_hours <= DUE_HOURS_MAX:
        raise InvalidInput(
            _("Due within 1 to %(n)d business hours.") % {"n": DUE_HOURS_MAX}, field="due_hours"
        )
    return spec


@transaction.atomic
def follow_up_rule_save(
    *, spec: RuleSpec, actor: User, rule: FollowUpRule | None = None
) -> FollowUpRule:
    """Add a follow-up rule or change one; it applies to cases resolved from now on."""
    spec = _rule_checked(spec)
    rule = rule or FollowUpRule()
    rule.name = spec.name.strip()
    rule.position = spec.position
    rule.is_active = spec.is_active
    rule.category = spec.category
    rule.channel = spec.channel
    rule.customer_tier = spec.customer_tier
    rule.is_complaint = spec.is_complaint
    rule.follow_up = spec.follow_up
    rule.due_hours = spec.due_hours
    created = rule.pk is None
    rule.save()
    audit_record(
        actor=actor,
        action="followup_rule.create" if created else "followup_rule.update",
        target=rule,
        fields=[f.name for f in FollowUpRule._meta.concrete_fields if f.name != "id"],
    )
    return rule
