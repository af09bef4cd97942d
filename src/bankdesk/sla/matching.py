"""Which SLA policy a case falls under: the first active one whose conditions all hold."""

from __future__ import annotations

from dataclasses import dataclass

from bankdesk.sla.models import SlaPolicy
from bankdesk.sla.snapshot import PolicyRules, SlaSettings
from bankdesk.tickets.models import Case
from bankdesk.tickets.selectors import case_customer_tier


@dataclass(frozen=True)
class CaseFacts:
    """What policy conditions look at."""

    category_path: frozenset[int]  # the case's category and all its ancestors
    priority: str
    channel: str
    customer_tier: str | None
    is_complaint: bool


def case_facts(case: Case, settings: SlaSettings) -> CaseFacts:
    return CaseFacts(
        category_path=settings.category_path(case.category_id),
        priority=case.priority,
        channel=case.channel,
        customer_tier=case_customer_tier(case),
        is_complaint=case.is_complaint,
    )


def policy_matches(policy: SlaPolicy, category_ids: frozenset[int], facts: CaseFacts) -> bool:
    if category_ids and not category_ids & facts.category_path:
        return False
    if policy.priorities and facts.priority not in policy.priorities:
        return False
    if policy.channels and facts.channel not in policy.channels:
        return False
    if policy.customer_tiers and facts.customer_tier not in policy.customer_tiers:
        return False
    return policy.is_complaint is None or policy.is_complaint == facts.is_complaint


def policy_for_case(case: Case, settings: SlaSettings) -> PolicyRules | None:
    """The policy that governs the case now, from the settings as read (at most one statement,
    for the customer's tier)."""
    facts = case_facts(case, settings)
    for rules in settings.policies:
        if policy_matches(rules.policy, rules.category_ids, facts):
            return rules
    return None
