"""Routing API: the rules that choose a case's queue, and routing one case by them."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from bankdesk.customers.choices import Language, Tier
from bankdesk.lib.api import Id, RequiredText, error_responses
from bankdesk.lib.channels import Channel
from bankdesk.staff.auth import request_staff, require_perm
from bankdesk.staff.errors import SkillNotFound
from bankdesk.staff.models import Skill
from bankdesk.tickets.access import access_case_by_id
from bankdesk.tickets.choices import RoutingStrategy
from bankdesk.tickets.lookups import category_by_id, team_by_id
from bankdesk.tickets.models import RoutingRule
from bankdesk.tickets.routing import RoutingOutcome, case_route
from bankdesk.tickets.routing_rules import (
    POSITION_MAX,
    routing_rule_create,
    routing_rule_list,
)
from bankdesk.tickets.schemas import Ref

router = Router(tags=["routing"])


class RoutingRuleIn(Schema):
    name: RequiredText(120)  # type: ignore[valid-type]
    position: int = Field(default=100, ge=0, le=POSITION_MAX)
    is_active: bool = True
    # Conditions; absent or null matches any case.
    category_id: Id | None = None
    channel: Channel | None = None
    language: Language | None = None
    customer_tier: Tier | None = None
    is_complaint: bool | None = None
    # Actions.
    team_id: Id
    strategy: RoutingStrategy = RoutingStrategy.LEAST_LOADED
    required_skill_ids: list[Id] = Field(default_factory=list, max_length=20)
    match_language_skill: bool = False


class SkillOut(Schema):
    id: int
    code: str
    name: str
    kind: str


class ConditionsOut(Schema):
    category_id: int | None
    channel: str | None
    language: str | None
    customer_tier: str | None
    is_complaint: bool | None


class ActionsOut(Schema):
    team: Ref
    strategy: str
    required_skills: list[SkillOut]
    match_language_skill: bool


class RoutingRuleOut(Schema):
    id: int
    name: str
    position: int
    is_active: bool
    conditions: ConditionsOut
    actions: ActionsOut


class RoutingOutcomeOut(Schema):
    case_id: int
    rule: Ref | None
    team: Ref | None
    assignee: Ref | None
    reason: str


def _rule_out(rule: RoutingRule) -> dict[str, Any]:
    return {
        "id": rule.pk,
        "name": rule.name,
        "position": rule.position,
        "is_active": rule.is_active,
        "conditions": {
            "category_id": rule.category_id,
            "channel": rule.channel or None,
            "language": rule.language or None,
            "customer_tier": rule.customer_tier or None,
            "is_complaint": rule.is_complaint,
        },
        "actions": {
            "team": {"id": rule.team.pk, "name": rule.team.name},
            "strategy": rule.strategy,
            "required_skills": [
                {"id": s.pk, "code": s.code, "name": s.name, "kind": s.kind}
                for s in rule.required_skills.all()
            ],
            "match_language_skill": rule.match_language_skill,
        },
    }


def _outcome_out(case_id: int, outcome: RoutingOutcome) -> dict[str, Any]:
    rule, team, assignee = outcome.rule, outcome.team, outcome.assignee
    return {
        "case_id": case_id,
        "rule": {"id": rule.pk, "name": rule.name} if rule else None,
        "team": {"id": team.pk, "name": team.name} if team else None,
        "assignee": {"id": assignee.pk, "name": str(assignee)} if assignee else None,
        "reason": outcome.reason,
    }


def _skills(skill_ids: list[int]) -> list[Skill]:
    found = {skill.pk: skill for skill in Skill.objects.filter(pk__in=skill_ids)}
    missing = [pk for pk in skill_ids if pk not in found]
    if missing:
        raise SkillNotFound(f"skill {missing[0]} not found", field="required_skill_ids")
    return list(found.values())


@router.get(
    "/rules",
    response={200: list[RoutingRuleOut], **error_responses()},
    summary="The routing rules, in the order they are tried",
)
def routing_rules(request: HttpRequest) -> list[dict[str, Any]]:
    require_perm(request_staff(request), "tickets.view_routingrule")
    return [_rule_out(rule) for rule in routing_rule_list()]


@router.post(
    "/rules",
    response={201: RoutingRuleOut, **error_responses(404)},
    summary="Add a routing rule: conditions on the case, the team it goes to and how",
)
def routing_rule_add(request: HttpRequest, payload: RoutingRuleIn) -> Status[dict[str, Any]]:
    user = request_staff(request)
    require_perm(user, "tickets.add_routingrule")
    rule = routing_rule_create(
        name=payload.name,
        position=payload.position,
        is_active=payload.is_active,
        category=category_by_id(payload.category_id) if payload.category_id else None,
        channel=payload.channel or "",
        language=payload.language or "",
        customer_tier=payload.customer_tier or "",
        is_complaint=payload.is_complaint,
        team=team_by_id(payload.team_id),
        strategy=payload.strategy,
        required_skills=_skills(payload.required_skill_ids),
        match_language_skill=payload.match_language_skill,
        actor=user,
    )
    return Status(201, _rule_out(routing_rule_list().get(pk=rule.pk)))


@router.post(
    "/cases/{case_id}/route",
    response={200: RoutingOutcomeOut, **error_responses(404, 409)},
    summary="Route one case by the rules: its queue, and a person unless it already has one",
)
def case_route_now(request: HttpRequest, case_id: Id) -> dict[str, Any]:
    user = request_staff(request)
    case = access_case_by_id(user, case_id, change=True)
    require_perm(user, "tickets.assign_case", case)
    return _outcome_out(case.pk, case_route(case=case, actor=user))
