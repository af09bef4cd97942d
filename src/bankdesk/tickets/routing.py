"""Routing: which team's queue a case joins and which of its people works it, race-free.

Every assigner takes its locks in one order, so none can deadlock and none can act on a load
another is about to change: the team row, then the team's available members in id order, then
the case row. Two assigners of one team take turns; two of different teams still take turns
over anyone who is a member of both.

Who is eligible: an active agent, supervisor or complaint officer who is available, a member of
the team, holds what the rule requires, and has room both overall (`max_open_cases`) and on the
case's channel (`ChannelCapacity`), counting cases in `ACTIVE_STATUSES`.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import OuterRef, Q

from bankdesk.staff.choices import Presence, Role, SkillKind
from bankdesk.staff.models import ChannelCapacity, Team, User
from bankdesk.tickets.choices import (
    CaseStatus,
    RoutingReason,
    RoutingStrategy,
    priority_at_least,
)
from bankdesk.tickets.errors import CaseClosed
from bankdesk.tickets.models import Case, RoutingRule
from bankdesk.tickets.recusal import recused_staff
from bankdesk.tickets.routing_rules import routing_rule_match
from bankdesk.tickets.selectors import active_load
from bankdesk.tickets.services import case_assign, case_priority_change
from bankdesk.tickets.signals import routing_preference

WORKING_ROLES = (Role.AGENT, Role.SUPERVISOR, Role.COMPLAINT_OFFICER)


@dataclass(frozen=True)
class RoutingOutcome:
    """What routing did with one case, and why (`reason` is a RoutingReason)."""

    rule: RoutingRule | None
    team: Team | None
    assignee: User | None
    reason: str


@dataclass(frozen=True)
class Preference:
    """What an app above asks of routing for one case (the customer's service plan): a person
    to try first, a team whose queue the case joins, a floor on its priority. Anything left
    empty falls to the routing rules."""

    person: User | None = None
    team: Team | None = None
    priority: str = ""


@dataclass(frozen=True)
class Requirements:
    """What the assignee must hold beyond a place in the team and room for the case."""

    skill_ids: frozenset[int] = frozenset()
    # A language skill whose code is this language (see staff.models.Skill); "" for none.
    language: str = ""


def _members_locked(team: Team) -> list[User]:
    """The team's available working members, locked in id order until the transaction ends."""
    return list(
        User.objects.select_for_update(of=("self",))
        .filter(teams=team, is_active=True, role__in=WORKING_ROLES, presence=Presence.AVAILABLE)
        .order_by("pk")
    )


def _holders(user_ids: list[int], requirements: Requirements) -> set[int]:
    """Which of these people hold every skill the requirements name."""
    if not requirements.skill_ids and not requirements.language:
        return set(user_ids)
    language_skill = Q(skill__kind=SkillKind.LANGUAGE, skill__code=requirements.language)
    held: dict[int, set[int]] = {pk: set() for pk in user_ids}
    languages: set[int] = set()
    rows = User.skills.through.objects.filter(user_id__in=user_ids).filter(
        Q(skill_id__in=requirements.skill_ids) | language_skill
    )
    for user_id, skill_id, kind, code in rows.values_list(
        "user_id", "skill_id", "skill__kind", "skill__code"
    ):
        held[user_id].add(skill_id)
        if kind == SkillKind.LANGUAGE and code == requirements.language:
            languages.add(user_id)
    return {
        pk
        for pk, skills in held.items()
        if requirements.skill_ids <= skills and (not requirements.language or pk in languages)
    }


def _with_room(
    members: list[User], *, channel: str, requirements: Requirements
) -> list[tuple[User, int]]:
    """The members who may take one more case on `channel`, each with their active load."""
    ids = [member.pk for member in members]
    loads = {
        pk: (total, on_channel)
        for pk, total, on_channel in User.objects.filter(pk__in=ids)
        .annotate(
            total=active_load(OuterRef("pk")),
            on_channel=active_load(OuterRef("pk"), channel=channel),
        )
        .values_list("pk", "total", "on_channel")
    }
    channel_limits = dict(
        ChannelCapacity.objects.filter(user_id__in=ids, channel=channel).values_list(
            "user_id", "max_open_cases"
        )
    )
    holders = _holders(ids, requirements)
    room = []
    for member in members:
        total, on_channel = loads.get(member.pk, (0, 0))
        channel_limit = channel_limits.get(member.pk)
        if (
            member.pk in holders
            and total < member.max_open_cases
            and (channel_limit is None or on_channel < channel_limit)
        ):
            room.append((member, total))
    return room


def _choose(
    *,
    team: Team,
    strategy: str,
    channel: str,
    requirements: Requirements,
    recused: frozenset[int] = frozenset(),
) -> tuple[Team, User | None]:
    """Lock the team, then its members, and name who gets the next case (None: nobody has room).
    Nobody `recused` from the case is named (tickets.recusal).

    Returns the team as locked, whose round-robin bookmark is current.
    """
    team = Team.objects.select_for_update().get(pk=team.pk)
    members = [member for member in _members_locked(team) if member.pk not in recused]
    room = _with_room(members, channel=channel, requirements=requirements)
    if not room:
        return team, None
    if strategy == RoutingStrategy.ROUND_ROBIN:
        # The first eligible member after the last one served, in id order, wrapping round.
        last = team.round_robin_last_user_id
        later = [member for member, _load in room if last is not None and member.pk > last]
        return team, (later or [member for member, _load in room])[0]
    return team, min(room, key=lambda pair: (pair[1], pair[0].pk))[0]


def _requirements(rule: RoutingRule, case: Case) -> Requirements:
    return Requirements(
        skill_ids=frozenset(rule.required_skills.values_list("pk", flat=True)),
        language=case.language if rule.match_language_skill else "",
    )


@transaction.atomic
def case_route(*, case: Case, actor: User | None) -> RoutingOutcome:
    """Put a case in the queue its routing rule names and give it to one of that team's people
    by the rule's strategy (a queue-only rule leaves the choice to a supervisor).

    A case that already has an assignee is never reassigned, and one no rule matches is left
    as it is. The rule is chosen from the case as it stands when routing starts.
    """
    fresh = Case.objects.get(pk=case.pk)
    if Case.customer.is_cached(case) and case.customer_id == fresh.customer_id:
        fresh.customer = case.customer  # already read: its tier decides rules, not its row
    case = fresh
    if case.status == CaseStatus.CLOSED:
        raise CaseClosed(f"case {case.number} is closed", field="case_id")
    if case.assignee_id is not None:
        return RoutingOutcome(
            rule=None, team=None, assignee=None, reason=RoutingReason.ALREADY_ASSIGNED
        )
    wish = _preference(case)
    outcome = (_preferred(case, wish, actor) if wish is not None else None) or _by_rule(case, actor)
    if wish is not None and wish.priority:
        # Last, once the case has its queue: the case row is locked after the people.
        current = Case.objects.filter(pk=case.pk).values_list("priority", flat=True).first() or ""
        raised = priority_at_least(current, wish.priority)
        if raised != current:
            case_priority_change(case=case, priority=raised, actor=actor)
    return outcome


def _by_rule(case: Case, actor: User | None) -> RoutingOutcome:
    rule = routing_rule_match(case=case)
    if rule is None:
        return RoutingOutcome(rule=None, team=None, assignee=None, reason=RoutingReason.NO_RULE)
    team, chosen = rule.team, None
    if rule.strategy != RoutingStrategy.MANUAL:
        team, chosen = _choose(
            team=rule.team,
            strategy=rule.strategy,
            channel=case.channel,
            requirements=_requirements(rule, case),
            recused=frozenset(recused_staff(case)),
        )
    locked = Case.objects.select_for_update().get(pk=case.pk)
    if locked.assignee_id is not None:  # another assigner was quicker
        return RoutingOutcome(
            rule=rule, team=None, assignee=None, reason=RoutingReason.ALREADY_ASSIGNED
        )
    case_assign(case=locked, team=team, assignee=chosen, actor=actor)
    if chosen is not None and rule.strategy == RoutingStrategy.ROUND_ROBIN:
        Team.objects.filter(pk=team.pk).update(round_robin_last_user=chosen)
    if rule.strategy == RoutingStrategy.MANUAL:
        reason = RoutingReason.QUEUED
    else:
        reason = RoutingReason.ASSIGNED if chosen else RoutingReason.NOBODY_AVAILABLE
    return RoutingOutcome(rule=rule, team=team, assignee=chosen, reason=reason)


def _preference(case: Case) -> Preference | None:
    for _receiver, answer in routing_preference.send(sender=Case, case=case):
        if isinstance(answer, Preference):
            return answer
    return None


def _preferred(case: Case, wish: Preference, actor: User | None) -> RoutingOutcome | None:
    """Routing as the customer's service plan asks it, None when it names nobody who can take
    the case (the rules decide then). The person first, if they are a member of the plan's
    team (or, with no team named, of a team of theirs), available and with room; else the
    plan's team, to whoever of it has the fewest cases. Locks in the order every assigner
    keeps: the team, then its people in id order, then the case."""
    recused = frozenset(recused_staff(case))
    person = wish.person if wish.person is not None and wish.person.pk not in recused else None
    if person is not None and not _free(person, case.channel):
        person = None  # read without locks: nothing is held on the way to the rules
    team = wish.team
    if team is None and person is not None:
        team = person.teams.order_by("pk").first()
    if team is None:
        return None
    # One team only is ever locked here: the plan's, else the person's own.
    team = Team.objects.select_for_update().get(pk=team.pk)
    members = [m for m in _members_locked(team) if m.pk not in recused]
    if person is not None:
        taker = next((m for m in members if m.pk == person.pk), None)
        if taker is not None and _with_room(
            [taker], channel=case.channel, requirements=Requirements()
        ):
            return _give(case, team, taker, actor)
    if wish.team is None:
        # The person was free a moment ago and is not now: their team's queue, not the rules
        # (which would lock a second team).
        return _give(case, team, None, actor)
    team, chosen = _choose(
        team=team,
        strategy=RoutingStrategy.LEAST_LOADED,
        channel=case.channel,
        requirements=Requirements(),
        recused=recused,
    )
    return _give(case, team, chosen, actor)


def _free(person: User, channel: str) -> bool:
    """Available, working, with room on the channel: as it reads now, unlocked."""
    current = User.objects.filter(
        pk=person.pk, is_active=True, role__in=WORKING_ROLES, presence=Presence.AVAILABLE
    ).first()
    return current is not None and bool(
        _with_room([current], channel=channel, requirements=Requirements())
    )


def _give(case: Case, team: Team, chosen: User | None, actor: User | None) -> RoutingOutcome:
    locked = Case.objects.select_for_update().get(pk=case.pk)
    if locked.assignee_id is not None:  # another assigner was quicker
        return RoutingOutcome(
            rule=None, team=None, assignee=None, reason=RoutingReason.ALREADY_ASSIGNED
        )
    case_assign(case=locked, team=team, assignee=chosen, actor=actor)
    reason = RoutingReason.SERVICE_PLAN if chosen else RoutingReason.NOBODY_AVAILABLE
    return RoutingOutcome(rule=None, team=team, assignee=chosen, reason=reason)


@transaction.atomic
def case_route_to_least_loaded(*, case: Case, team: Team, actor: User | None) -> User | None:
    """Give an unassigned case to the available member of `team` with the fewest active cases,
    never beyond anyone's capacity, overall or on the case's channel. Returns the assignee, or
    None when nobody has room or the case was meanwhile taken (the case is then left as it is).
    """
    team, chosen = _choose(
        team=team,
        strategy=RoutingStrategy.LEAST_LOADED,
        channel=case.channel,
        requirements=Requirements(),
        recused=frozenset(recused_staff(case)),
    )
    if chosen is None:
        return None
    locked = Case.objects.select_for_update().get(pk=case.pk)
    if locked.assignee_id is not None:
        return None
    case_assign(case=locked, team=team, assignee=chosen, actor=actor)
    return chosen
