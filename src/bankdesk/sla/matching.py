"""Which SLA policies a case falls under: the first active bank policy whose conditions all hold,
and beside it, for each regulator with active statutory policies, the first of those that holds."""

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
    """The bank's policy that governs the case now, from the settings as read (at most one
    statement, for the customer's tier)."""
    found = policies_for_case(case, settings)
    return found[0] if found and not found[0].policy.regulator else None


def policies_for_case(case: Case, settings: SlaSettings) -> list[PolicyRules]:
    """Every policy that governs the case now: the bank's own first (if one matches), then one
    statutory policy per regulator, in the order of their positions."""
    facts = case_facts(case, settings)
    found: list[PolicyRules] = []
    taken: set[str] = set()
    for rules in settings.policies:
        regulator = rules.policy.regulator
        if regulator in taken:
            continue
        if policy_matches(rules.policy, rules.category_ids, facts):
            taken.add(regulator)
            found.append(rules)
    found.sort(key=lambda rules: rules.policy.regulator != "")
    return found
