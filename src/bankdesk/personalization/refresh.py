"""The background run that keeps personalisation current: every real customer's segments (rules
and behaviour clusters), their service plan and their next-best-actions.

Memberships are replaced where they changed (a membership that still holds keeps its `since`);
a plan change ends the old assignment and starts the new one, so coverage can be read at any
moment of the past; a suggestion is made once per action while it is open, not again within
COOLDOWN of a decision on it, and an open one nobody decided on is counted as ignored when it
expires. Suggestions the customer's consents do not allow are never made.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from django.db import transaction
from django.utils import timezone

from bankdesk.customers.profile import customers_allowing
from bankdesk.personalization.actions import ACTIONS
from bankdesk.personalization.choices import SegmentKind, SuggestionStatus
from bankdesk.personalization.models import (
    Membership,
    PlanAssignment,
    Segment,
    ServicePlan,
    Suggestion,
)
from bankdesk.personalization.profiles import Profile, profiles
from bankdesk.personalization.segments import (
    Reason,
    cluster_name,
    cluster_reasons,
    cluster_segments,
    clusters_compute,
    rule_reasons,
)

SUGGESTION_DAYS = 30
COOLDOWN = timedelta(days=90)


@dataclass
class Counts:
    customers: int = 0
    memberships: int = 0
    plans_started: int = 0
    plans_ended: int = 0
    suggested: int = 0
    ignored: int = 0
    per_segment: dict[str, int] = field(default_factory=dict)


def personalization_refresh(*, now: datetime | None = None) -> Counts:
    """Bring every real customer's segments, plan and suggestions up to date."""
    now = now or timezone.now()
    counts = Counts()
    every = list(profiles(now=now))
    counts.customers = len(every)
    wanted: dict[int, dict[int, list[Reason]]] = defaultdict(dict)
    today = timezone.localdate(now)
    rules = list(Segment.objects.filter(kind=SegmentKind.RULE, is_active=True))
    for profile in every:
        for segment in rules:
            reasons = rule_reasons(segment.rule, profile, today)
            if reasons is not None:
                wanted[profile.customer_id][segment.pk] = reasons
    _clusters(every, wanted, now)
    with transaction.atomic():
        _memberships_save(wanted, now, counts)
        _plans_save(wanted, now, counts)
        _suggestions_save(every, wanted, now, counts)
    for segment_id, code in Segment.objects.values_list("pk", "code"):
        counts.per_segment[code] = sum(1 for held in wanted.values() if segment_id in held)
    return counts


def _clusters(
    every: list[Profile], wanted: dict[int, dict[int, list[Reason]]], now: datetime
) -> None:
    segments = cluster_segments()
    result = clusters_compute(every, [s.centre for s in segments], len(segments))
    if result is None:
        return
    ages = [p.age for p in every if p.age is not None]
    default_age = float(np.median(ages)) if ages else 0.0
    by_id = {p.customer_id: p for p in every}
    for segment, centre, members, apart, z in zip(
        segments, result.centres, result.members, result.apart, result.distances, strict=True
    ):
        segment.name, segment.name_en = cluster_name(z, apart)
        segment.centre = centre
        segment.updated_at = now
        segment.save(update_fields=["name", "name_en", "centre", "updated_at"])
        for customer_id in members:
            wanted[customer_id][segment.pk] = cluster_reasons(
                by_id[customer_id], centre, apart, default_age
            )


def _memberships_save(
    wanted: dict[int, dict[int, list[Reason]]], now: datetime, counts: Counts
) -> None:
    held = {(m.customer_id, m.segment_id): m for m in Membership.objects.all()}
    keep: set[tuple[int, int]] = set()
    new: list[Membership] = []
    changed: list[Membership] = []
    for customer_id, segments in wanted.items():
        for segment_id, reasons in segments.items():
            key = (customer_id, segment_id)
            keep.add(key)
            existing = held.get(key)
            if existing is None:
                new.append(
                    Membership(
                        customer_id=customer_id, segment_id=segment_id, reasons=reasons, since=now
                    )
                )
            elif existing.reasons != reasons:
                existing.reasons = reasons
                changed.append(existing)
    gone = [m.pk for key, m in held.items() if key not in keep]
    Membership.objects.filter(pk__in=gone).delete()
    Membership.objects.bulk_create(new, batch_size=1000)
    Membership.objects.bulk_update(changed, ["reasons"], batch_size=1000)
    counts.memberships = len(keep)


def _plans_save(wanted: dict[int, dict[int, list[Reason]]], now: datetime, counts: Counts) -> None:
    plans = list(ServicePlan.objects.filter(is_active=True, segment__is_active=True))
    current = {a.customer_id: a for a in PlanAssignment.objects.filter(ended_at=None)}
    for customer_id in set(wanted) | set(current):
        segments = wanted.get(customer_id, {})
        plan = next((p for p in plans if p.segment_id in segments), None)
        now_under = current.get(customer_id)
        if now_under is not None and plan is not None and now_under.plan_id == plan.pk:
            continue
        if now_under is not None:
            now_under.ended_at = now
            now_under.save(update_fields=["ended_at"])
            counts.plans_ended += 1
        if plan is not None:
            PlanAssignment.objects.create(
                customer_id=customer_id,
                plan=plan,
                reasons=[{"segment": plan.segment_id}, *segments[plan.segment_id]],
                started_at=now,
            )
            counts.plans_started += 1


def _suggestions_save(
    every: list[Profile],
    wanted: dict[int, dict[int, list[Reason]]],
    now: datetime,
    counts: Counts,
) -> None:
    counts.ignored = Suggestion.objects.filter(
        status=SuggestionStatus.OPEN, expires_at__lte=now
    ).update(status=SuggestionStatus.IGNORED, decided_at=now)
    open_now = set(
        Suggestion.objects.filter(status=SuggestionStatus.OPEN).values_list("customer_id", "action")
    )
    recent = set(
        Suggestion.objects.filter(decided_at__gt=now - COOLDOWN)
        .exclude(status=SuggestionStatus.OPEN)
        .values_list("customer_id", "action")
    )
    ids = [p.customer_id for p in every]
    allowed = {
        purpose: customers_allowing(ids, purpose) for purpose in {a.purpose for a in ACTIONS}
    }
    new: list[Suggestion] = []
    for profile in every:
        segments = {str(s) for s in wanted.get(profile.customer_id, {})}
        for action in ACTIONS:
            key = (profile.customer_id, action.code)
            if key in open_now or key in recent:
                continue
            if profile.customer_id not in allowed[action.purpose]:
                continue
            reasons = action.fits(profile, segments)
            if reasons is None:
                continue
            new.append(
                Suggestion(
                    customer_id=profile.customer_id,
                    action=action.code,
                    purpose=action.purpose,
                    reasons=reasons,
                    created_at=now,
                    expires_at=now + timedelta(days=SUGGESTION_DAYS),
                )
            )
    Suggestion.objects.bulk_create(new, batch_size=1000)
    counts.suggested = len(new)
