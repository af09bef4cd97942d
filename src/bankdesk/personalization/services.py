"""Writes staff make in personalisation: deciding on a suggestion, and the bank's segments and
plans (administrators). Each is one transaction, audited."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from bankdesk.customers.profile import consent_allows
from bankdesk.lib.errors import Conflict, InvalidInput, NotFound
from bankdesk.personalization.choices import SegmentKind, SuggestionStatus
from bankdesk.personalization.models import Segment, ServicePlan, Suggestion
from bankdesk.personalization.segments import rule_check
from bankdesk.security.audit import audit_record
from bankdesk.staff.models import User
from bankdesk.tickets.choices import Priority
from bankdesk.tickets.models import Case

GUIDANCE_MAX = 2000
NAME_MAX = 120
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")
OUTCOMES = (SuggestionStatus.ACCEPTED, SuggestionStatus.DECLINED)


@transaction.atomic
def suggestion_decide(
    *,
    suggestion_id: int,
    customer_id: int,
    outcome: str,
    actor: User,
    case: Case | None = None,
    now: datetime | None = None,
) -> Suggestion:
    """The agent took the suggestion up with the customer, or decided against it (on `case`,
    the customer's, when they decided while working one)."""
    if case is not None and case.customer_id != customer_id:
        raise NotFound("no such suggestion for this customer", field="suggestion")
    if outcome not in OUTCOMES:
        raise InvalidInput("the outcome is accepted or declined", field="outcome")
    suggestion = Suggestion.objects.select_for_update().filter(pk=suggestion_id).first()
    if suggestion is None or suggestion.customer_id != customer_id:
        raise NotFound("no such suggestion for this customer", field="suggestion")
    now = now or timezone.now()
    if suggestion.status != SuggestionStatus.OPEN:
        raise Conflict(
            "this suggestion was already decided", code="suggestion_decided", field="suggestion"
        )
    if suggestion.expires_at <= now:
        raise Conflict("this suggestion has expired", code="suggestion_expired", field="suggestion")
    if not consent_allows(suggestion.customer_id, suggestion.purpose):
        raise Conflict(
            "the customer's consent no longer allows this suggestion",
            code="suggestion_not_consented",
            field="suggestion",
        )
    suggestion.status = outcome
    suggestion.decided_at = now
    suggestion.decided_by = actor
    suggestion.case = case
    suggestion.save(update_fields=["status", "decided_at", "decided_by", "case"])
    audit_record(
        actor=actor,
        action=f"personalization.suggestion_{outcome}",
        target=suggestion,
        fields=["status"],
    )
    return suggestion


@transaction.atomic
def segment_save(
    *,
    name: str,
    name_en: str,
    rule: Any,
    is_active: bool,
    actor: User,
    segment: Segment | None = None,
    code: str = "",
) -> Segment:
    """A new rule segment, or a change to one (its names, conditions, whether it is in use);
    the next refresh moves the members. A behaviour cluster keeps what the task computes:
    only whether it is in use changes."""
    name, name_en = name.strip(), name_en.strip()
    if not name or len(name) > NAME_MAX or len(name_en) > NAME_MAX:
        raise InvalidInput(f"the name is 1 to {NAME_MAX} characters", field="name")
    if segment is None:
        if not SLUG.match(code):
            raise InvalidInput(
                "the code is 2–40 lower-case letters, digits or dashes", field="code"
            )
        if Segment.objects.filter(code=code).exists():
            raise Conflict("a segment has this code already", field="code")
        segment = Segment(code=code, kind=SegmentKind.RULE)
    else:
        segment = Segment.objects.select_for_update().get(pk=segment.pk)
    if segment.kind == SegmentKind.RULE:
        segment.rule = rule_check(rule)
        segment.name, segment.name_en = name, name_en
    segment.is_active = is_active
    segment.updated_at = timezone.now()
    created = segment.pk is None
    segment.save()
    audit_record(
        actor=actor,
        action="personalization.segment_added" if created else "personalization.segment_changed",
        target=segment,
        fields=["name", "name_en", "rule", "is_active"],
    )
    return segment


@transaction.atomic
def plan_change(*, plan: ServicePlan, fields: dict[str, Any], actor: User) -> ServicePlan:
    """Change how a plan serves its segment: team, relationship manager first, priority,
    guidance, order, in use."""
    allowed = {
        "team",
        "to_relationship_manager",
        "priority",
        "guidance",
        "guidance_en",
        "position",
        "is_active",
    }
    unknown = set(fields) - allowed
    if unknown:
        raise InvalidInput(f"unknown field {sorted(unknown)[0]}", field=sorted(unknown)[0])
    if fields.get("priority", "") not in ("", *Priority.values):
        raise InvalidInput("unknown priority", field="priority")
    for name in ("guidance", "guidance_en"):
        if len(str(fields.get(name, ""))) > GUIDANCE_MAX:
            raise InvalidInput(f"the guidance is at most {GUIDANCE_MAX} characters", field=name)
    position = fields.get("position", 0)
    if isinstance(position, bool) or not isinstance(position, int) or position < 0:
        raise InvalidInput("the position is a whole number from 0", field="position")
    plan = ServicePlan.objects.select_for_update().get(pk=plan.pk)
    for name, value in fields.items():
        setattr(plan, name, value)
    plan.updated_at = timezone.now()
    plan.save()
    audit_record(
        actor=actor,
        action="personalization.plan_changed",
        target=plan,
        fields=sorted(fields),
    )
    return plan
