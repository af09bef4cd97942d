"""Routing rules: which queue a case belongs in. Data the bank edits, never settings.

A rule's conditions are the case's category (with its sub-categories), channel, language, the
customer's tier and whether it is a complaint; an empty condition matches any case. The first
active rule, lowest position first (then oldest), whose conditions all hold decides.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q, QuerySet

from bankdesk.customers.choices import Language, Tier
from bankdesk.lib.channels import Channel
from bankdesk.lib.errors import InvalidInput
from bankdesk.security.audit import audit_record
from bankdesk.staff.models import Skill, Team, User
from bankdesk.tickets.choices import RoutingStrategy
from bankdesk.tickets.models import Case, Category, RoutingRule
from bankdesk.tickets.selectors import case_customer_tier

NAME_MAX = 120
POSITION_MAX = 2_147_483_647  # PositiveIntegerField's ceiling on every database


def category_lineage(category_id: int | None) -> list[int]:
    """The category and every one above it: a rule on Cards also takes Cards › Lost card."""
    lineage: list[int] = []
    while category_id is not None and category_id not in lineage:  # a loop in the tree ends
        lineage.append(category_id)
        category_id = (
            Category.objects.filter(pk=category_id).values_list("parent_id", flat=True).first()
        )
    return lineage


def routing_rule_match(*, case: Case) -> RoutingRule | None:
    """The rule that decides where `case` goes: the first active one whose conditions all hold."""
    tier = case_customer_tier(case) or ""
    return (
        RoutingRule.objects.filter(is_active=True)
        .filter(Q(category__isnull=True) | Q(category_id__in=category_lineage(case.category_id)))
        .filter(Q(channel="") | Q(channel=case.channel))
        .filter(Q(language="") | Q(language=case.language))
        .filter(Q(customer_tier="") | Q(customer_tier=tier))
        .filter(Q(is_complaint__isnull=True) | Q(is_complaint=case.is_complaint))
        .select_related("team")
        .order_by("position", "id")
        .first()
    )


def routing_rule_list() -> QuerySet[RoutingRule]:
    """Every rule in the order they are tried, with what the rule list shows."""
    return RoutingRule.objects.select_related("team", "category").prefetch_related(
        "required_skills"
    )


def _check_choice(value: str, allowed: list[str], field: str) -> None:
    if value and value not in allowed:
        raise InvalidInput(f"{field} must be empty or one of {', '.join(allowed)}", field=field)


def _rule_checked(
    *,
    name: str,
    position: int,
    strategy: str,
    channel: str,
    language: str,
    customer_tier: str,
    category: Category | None,
    required_skills: Iterable[Skill],
    match_language_skill: bool,
) -> tuple[str, list[Skill]]:
    """What a rule may say, checked once for adding and changing: its name, and its skills
    without repeats."""
    name = name.strip()
    if not name:
        raise InvalidInput("name is required", field="name")
    if len(name) > NAME_MAX:
        raise InvalidInput(f"name is at most {NAME_MAX} characters", field="name")
    if not 0 <= position <= POSITION_MAX:
        raise InvalidInput(f"position must be between 0 and {POSITION_MAX}", field="position")
    if strategy not in RoutingStrategy.values:
        raise InvalidInput(
            f"strategy must be one of {', '.join(RoutingStrategy.values)}", field="strategy"
        )
    _check_choice(channel, Channel.values, "channel")
    _check_choice(language, Language.values, "language")
    _check_choice(customer_tier, Tier.values, "customer_tier")
    if category is not None and not category.is_active:
        raise InvalidInput("this category is retired", field="category_id")
    skills = list({skill.pk: skill for skill in required_skills}.values())
    if strategy == RoutingStrategy.MANUAL and (skills or match_language_skill):
        # A queue-only rule picks nobody, so a requirement on the person would never be checked.
        raise InvalidInput(
            "a queue-only rule assigns nobody, so it cannot require skills",
            field="required_skill_ids" if skills else "match_language_skill",
        )
    return name, skills


@transaction.atomic
def routing_rule_create(
    *,
    name: str,
    team: Team,
    actor: User | None,
    strategy: str = RoutingStrategy.LEAST_LOADED,
    position: int = 100,
    is_active: bool = True,
    category: Category | None = None,
    channel: str = "",
    language: str = "",
    customer_tier: str = "",
    is_complaint: bool | None = None,
    required_skills: Iterable[Skill] = (),
    match_language_skill: bool = False,
) -> RoutingRule:
    """Add a routing rule. Empty conditions match any case; it applies to cases routed from now."""
    name, skills = _rule_checked(
        name=name,
        position=position,
        strategy=strategy,
        channel=channel,
        language=language,
        customer_tier=customer_tier,
        category=category,
        required_skills=required_skills,
        match_language_skill=match_language_skill,
    )
    rule = RoutingRule(
        name=name,
        position=position,
        is_active=is_active,
        category=category,
        channel=channel,
        language=language,
        customer_tier=customer_tier,
        is_complaint=is_complaint,
        team=team,
        strategy=strategy,
        match_language_skill=match_language_skill,
    )
    rule.full_clean()
    rule.save()
    rule.required_skills.set(skills)
    audit_record(
        actor=actor,
        action="routing_rule.create",
        target=rule,
        fields=[
            "name",
            "position",
            "is_active",
            "category",
            "channel",
            "language",
            "customer_tier",
            "is_complaint",
            "team",
            "strategy",
            "required_skills",
            "match_language_skill",
        ],
    )
    return rule


@transaction.atomic
def routing_rule_update(
    *,
    rule: RoutingRule,
    name: str,
    team: Team,
    actor: User | None,
    strategy: str,
    position: int,
    is_active: bool,
    category: Category | None,
    channel: str,
    language: str,
    customer_tier: str,
    is_complaint: bool | None,
    required_skills: Iterable[Skill],
    match_language_skill: bool,
) -> RoutingRule:
    """Change what a routing rule matches and where it sends cases, checked as when it was added.
    It applies to cases routed from now; audited with the fields that changed. A category
    retired since the rule was written may stay on it, but none may be newly chosen."""
    rule = RoutingRule.objects.select_for_update().get(pk=rule.pk)
    kept = category is not None and category.pk == rule.category_id
    name, skills = _rule_checked(
        name=name,
        position=position,
        strategy=strategy,
        channel=channel,
        language=language,
        customer_tier=customer_tier,
        category=None if kept else category,
        required_skills=required_skills,
        match_language_skill=match_language_skill,
    )
    values: dict[str, object] = {
        "name": name,
        "position": position,
        "is_active": is_active,
        "category_id": category.pk if category else None,
        "channel": channel,
        "language": language,
        "customer_tier": customer_tier,
        "is_complaint": is_complaint,
        "team_id": team.pk,
        "strategy": strategy,
        "match_language_skill": match_language_skill,
    }
    changed = [field for field, value in values.items() if getattr(rule, field) != value]
    skill_ids = {skill.pk for skill in skills}
    if set(rule.required_skills.values_list("pk", flat=True)) != skill_ids:
        changed.append("required_skills")
    if not changed:
        return rule
    for field, value in values.items():
        setattr(rule, field, value)
    rule.full_clean()
    rule.save()
    rule.required_skills.set(skills)
    audit_record(
        actor=actor,
        action="routing_rule.update",
        target=rule,
        fields=[field.removesuffix("_id") for field in changed],
    )
    return rule


@transaction.atomic
def routing_rule_active_set(
    *, rule: RoutingRule, is_active: bool, actor: User | None
) -> RoutingRule:
    """Take a rule out of routing, keeping what it says, or put it back. Audited."""
    rule = RoutingRule.objects.select_for_update().get(pk=rule.pk)
    if rule.is_active != is_active:
        rule.is_active = is_active
        rule.save(update_fields=["is_active"])
        audit_record(
            actor=actor,
            action="routing_rule.enable" if is_active else "routing_rule.disable",
            target=rule,
            fields=["is_active"],
        )
    return rule
