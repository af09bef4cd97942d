"""The background run that keeps personalisation current: every real customer's segments (rules
and behaviour clusters), their service plan and their next-best-actions.

It goes through the customers a batch at a time, each batch's writes in a transaction of
their own, so a bank of a million customers holds neither a million profiles in memory nor
the database's writers for the length of the run:

1. each batch's profiles: rule memberships and new suggestions written, the cluster features
   kept (five numbers a customer);
2. the clusters, from every customer's features; then their memberships, a batch at a time;
3. the plans, a batch at a time, from the memberships as now written.

Memberships are replaced where they changed (one that still holds keeps its `since`); a plan
change ends the old assignment and starts the new one, so coverage can be read at any moment
of the past; a suggestion is made once per action while it is open, not again within COOLDOWN
of a decision on it, and an open one nobody decided on is counted as ignored when it expires.
Suggestions the customer's consents do not allow are never made.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from bankdesk.customers.profile import customers_allowing
from bankdesk.lib.iterables import batched
from bankdesk.personalization.actions import ACTIONS
from bankdesk.personalization.choices import SegmentKind, SuggestionStatus
from bankdesk.personalization.models import (
    Membership,
    PlanAssignment,
    Segment,
    ServicePlan,
    Suggestion,
)
from bankdesk.personalization.profiles import BATCH, Profile, profiles
from bankdesk.personalization.segments import (
    Reason,
    cluster_name,
    cluster_reasons,
    cluster_segments,
    clusters_compute,
    features,
    rule_reasons,
)

SUGGESTION_DAYS = 30
COOLDOWN = timedelta(days=90)
Wanted = dict[int, dict[int, list[Reason]]]  # customer → segment → reasons


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
    counts.ignored = Suggestion.objects.filter(
        status=SuggestionStatus.OPEN, expires_at__lte=now
    ).update(status=SuggestionStatus.IGNORED, decided_at=now)
    today = timezone.localdate(now)
    rules = list(Segment.objects.filter(kind=SegmentKind.RULE, is_active=True))
    every_rule = set(Segment.objects.filter(kind=SegmentKind.RULE).values_list("pk", flat=True))
    ids: list[int] = []
    rows: list[list[float]] = []
    for batch in batched(profiles(now=now), BATCH):
        wanted: Wanted = defaultdict(dict)
        for profile in batch:
            for segment in rules:
                reasons = rule_reasons(segment.rule, profile, today)
                if reasons is not None:
                    wanted[profile.customer_id][segment.pk] = reasons
            ids.append(profile.customer_id)
            rows.append(features(profile))
        with transaction.atomic():
            _memberships_save(wanted, [p.customer_id for p in batch], every_rule, now)
            counts.suggested += _suggestions_save(batch, now)
    counts.customers = len(ids)
    _clusters(ids, np.array(rows, dtype=float).reshape(-1, 5), now)
    for start in range(0, len(ids), BATCH):
        with transaction.atomic():
            started, ended = _plans_save(ids[start : start + BATCH], now)
        counts.plans_started += started
        counts.plans_ended += ended
    # Whoever is no longer a real customer (folded into another) leaves their plan.
    counts.plans_ended += PlanAssignment.objects.filter(
        ended_at=None, customer__is_provisional=True
    ).update(ended_at=now)
    Membership.objects.filter(customer__is_provisional=True).delete()
    counts.per_segment = dict(
        Segment.objects.annotate(members=Count("memberships")).values_list("code", "members")
    )
    counts.memberships = sum(counts.per_segment.values())
    return counts


def _clusters(ids: list[int], data: np.ndarray, now: datetime) -> None:
    segments = cluster_segments()
    every_cluster = set(
        Segment.objects.filter(kind=SegmentKind.CLUSTER).values_list("pk", flat=True)
    )
    result = clusters_compute(data, [s.centre for s in segments], len(segments))
    if result is None:
        Membership.objects.filter(segment_id__in=every_cluster).delete()
        return
    with transaction.atomic():
        for index, segment in enumerate(segments):
            segment.name, segment.name_en = cluster_name(
                result.distances[index], result.apart[index]
            )
            segment.centre = result.centres[index]
            segment.updated_at = now
            segment.save(update_fields=["name", "name_en", "centre", "updated_at"])
    for start in range(0, len(ids), BATCH):
        wanted: Wanted = defaultdict(dict)
        for offset, customer_id in enumerate(ids[start : start + BATCH]):
            row = start + offset
            cluster = int(result.nearest[row])
            wanted[customer_id][segments[cluster].pk] = cluster_reasons(
                result.data[row], result.centres[cluster], result.apart[cluster]
            )
        with transaction.atomic():
            _memberships_save(wanted, ids[start : start + BATCH], every_cluster, now)


def _memberships_save(
    wanted: Wanted, customer_ids: list[int], segment_ids: set[int], now: datetime
) -> None:
    """Make these customers' memberships of these segments what `wanted` says."""
    held = {
        (m.customer_id, m.segment_id): m
        for m in Membership.objects.filter(customer_id__in=customer_ids, segment_id__in=segment_ids)
    }
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
    Membership.objects.filter(pk__in=[m.pk for key, m in held.items() if key not in keep]).delete()
    Membership.objects.bulk_create(new)
    Membership.objects.bulk_update(changed, ["reasons"])


def _plans_save(customer_ids: list[int], now: datetime) -> tuple[int, int]:
    """These customers' plans, from their memberships; returns (started, ended)."""
    plans = list(ServicePlan.objects.filter(is_active=True, segment__is_active=True))
    reasons: Wanted = defaultdict(dict)
    for customer_id, segment_id, why in Membership.objects.filter(
        customer_id__in=customer_ids, segment__in=[p.segment_id for p in plans]
    ).values_list("customer_id", "segment_id", "reasons"):
        reasons[customer_id][segment_id] = why
    current = {
        a.customer_id: a
        for a in PlanAssignment.objects.filter(customer_id__in=customer_ids, ended_at=None)
    }
    started = ended = 0
    for customer_id in customer_ids:
        segments = reasons.get(customer_id, {})
        plan = next((p for p in plans if p.segment_id in segments), None)
        now_under = current.get(customer_id)
        if now_under is not None and plan is not None and now_under.plan_id == plan.pk:
            continue
        if now_under is not None:
            now_under.ended_at = now
            now_under.save(update_fields=["ended_at"])
            ended += 1
        if plan is not None:
            PlanAssignment.objects.create(
                customer_id=customer_id,
                plan=plan,
                reasons=[{"segment": plan.segment_id}, *segments[plan.segment_id]],
                started_at=now,
            )
            started += 1
    return started, ended


def _suggestions_save(batch: list[Profile], now: datetime) -> int:
    """The batch's new suggestions; returns how many."""
    ids = [p.customer_id for p in batch]
    open_now = set(
        Suggestion.objects.filter(customer_id__in=ids, status=SuggestionStatus.OPEN).values_list(
            "customer_id", "action"
        )
    )
    recent = set(
        Suggestion.objects.filter(customer_id__in=ids, decided_at__gt=now - COOLDOWN)
        .exclude(status=SuggestionStatus.OPEN)
        .values_list("customer_id", "action")
    )
    allowed = {
        purpose: customers_allowing(ids, purpose) for purpose in {a.purpose for a in ACTIONS}
    }
    new: list[Suggestion] = []
    for profile in batch:
        for action in ACTIONS:
            key = (profile.customer_id, action.code)
            if key in open_now or key in recent:
                continue
            if profile.customer_id not in allowed[action.purpose]:
                continue
            reasons = action.fits(profile)
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
    Suggestion.objects.bulk_create(new)
    return len(new)
