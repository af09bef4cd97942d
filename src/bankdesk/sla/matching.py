"""Which SLA policy a case falls under: the first active one whose conditions all hold."""

from __future__ import annotations

from dataclasses import dataclass

from bankdesk.sla.models import SlaPolicy
from bankdesk.tickets.models import Case, Category


@dataclass(frozen=True)
class CaseFacts:
    """What policy conditions look at."""

    category_path: frozenset[int]  # the case's category and all its ancestors
    priority: str
    channel: str
    customer_tier: str | None
    is_complaint: bool


def case_facts(case: Case) -> CaseFacts:
    path: set[int] = set()
    category_id = case.category_id
    while category_id is not None and category_id not in path:
        path.add(category_id)
        category_id = Category.objects.filter(pk=category_id).values_list("parent_id", flat=True)[0]
    tier = case.customer.tier if case.customer_id is not None and case.customer else None
    return CaseFacts(
        category_path=frozenset(path),
        priority=case.priority,
        channel=case.channel,
        customer_tier=tier,
        is_complaint=case.is_complaint,
    )


def policy_matches(policy: SlaPolicy, category_ids: set[int], facts: CaseFacts) -> bool:
    if category_ids and not category_ids & facts.category_path:
        return False
    if policy.priorities and facts.priority not in policy.priorities:
        return False
    if policy.channels and facts.channel not in policy.channels:
        return False
    if policy.customer_tiers and facts.customer_tier not in policy.customer_tiers:
        return False
    return policy.is_complaint is None or policy.is_complaint == facts.is_complaint


def policy_for_case(case: Case) -> SlaPolicy | None:
    """The policy that governs the case now (two queries and one per category level)."""
    facts = case_facts(case)
    policies = SlaPolicy.objects.filter(is_active=True).prefetch_related("categories")
    for policy in policies:
        category_ids = {category.pk for category in policy.categories.all()}
        if policy_matches(policy, category_ids, facts):
            return policy
    return None
