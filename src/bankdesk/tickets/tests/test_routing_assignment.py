"""Routing a case by its rule: the queue it joins and the person who gets it."""

from __future__ import annotations

import pytest

from bankdesk.staff.choices import Presence, Role, SkillKind
from bankdesk.staff.models import Skill, Team, User
from bankdesk.staff.services import channel_capacity_set, staff_presence_set, team_create
from bankdesk.tickets.choices import CaseStatus, EventKind, RoutingReason
from bankdesk.tickets.errors import CaseClosed
from bankdesk.tickets.models import Case, CaseEvent
from bankdesk.tickets.routing import case_route, case_route_to_least_loaded
from bankdesk.tickets.routing_rules import routing_rule_create
from bankdesk.tickets.services import case_assign, case_create, case_status_change

pytestmark = pytest.mark.django_db


@pytest.fixture
def available(make_staff):
    def make(
        username: str,
        team: Team,
        *,
        capacity: int = 8,
        skills: tuple[Skill, ...] = (),
        role: str = Role.AGENT,
    ) -> User:
        user = make_staff(username, role, [team])
        staff_presence_set(user=user, presence=Presence.AVAILABLE)
        User.objects.filter(pk=user.pk).update(max_open_cases=capacity)
        user.skills.set(skills)
        return user

    return make


def _skill(code: str, kind: str) -> Skill:
    return Skill.objects.create(code=code, name=code, kind=kind)


def _case(channel: str = "phone", **fields) -> Case:
    return case_create(subject="咨询", channel=channel, actor=None, **fields)


def _route(case: Case):
    outcome = case_route(case=case, actor=None)
    case.refresh_from_db()
    return outcome


def _assignees(count: int, channel: str = "phone") -> list[str | None]:
    return [
        outcome.assignee.username if outcome.assignee else None
        for outcome in (_route(_case(channel)) for _ in range(count))
    ]


def test_round_robin_takes_members_in_turn_and_wraps_round(general_team, available):
    for name in ("a", "b", "c"):
        available(name, general_team)
    routing_rule_create(name="轮询", team=general_team, strategy="round_robin", actor=None)
    assert _assignees(7) == ["a", "b", "c", "a", "b", "c", "a"]
    general_team.refresh_from_db()
    assert general_team.round_robin_last_user.username == "a"


def test_round_robin_skips_people_away_offline_or_full(general_team, available, make_staff):
    available("a", general_team)
    away = available("b", general_team)
    staff_presence_set(user=away, presence=Presence.AWAY)
    available("c", general_team, capacity=1)
    make_staff("d", Role.AGENT, [general_team])  # offline, as everyone starts
    routing_rule_create(name="轮询", team=general_team, strategy="round_robin", actor=None)
    assert _assignees(3) == ["a", "c", "a"]
    staff_presence_set(user=away, presence=Presence.AVAILABLE)
    assert _assignees(2) == ["b", "a"]  # c is still full


def test_round_robin_never_picks_auditors_admins_or_former_staff(
    general_team, available, make_staff
):
    available("a", general_team)
    available("auditor", general_team, role=Role.AUDITOR)
    gone = available("gone", general_team)
    User.objects.filter(pk=gone.pk).update(is_active=False)
    routing_rule_create(name="轮询", team=general_team, strategy="round_robin", actor=None)
    assert _assignees(3) == ["a", "a", "a"]


def test_least_loaded_gives_the_case_to_whoever_holds_fewest_active_cases(general_team, available):
    busy = available("busy", general_team)
    free = available("free", general_team)
    routing_rule_create(name="最少负载", team=general_team, strategy="least_loaded", actor=None)
    for _ in range(2):
        case_assign(case=_case(), team=general_team, assignee=busy, actor=None)
    finished = _case()
    case_assign(case=finished, team=general_team, assignee=free, actor=None)
    for status in ("open", "resolved"):  # a resolved case no longer counts
        case_status_change(case=finished, status=status, actor=None)
    assert _assignees(3) == ["free", "free", "busy"]  # ties go to the lower id


def test_only_people_holding_every_required_skill_are_chosen(general_team, available):
    cards = _skill("credit-cards", SkillKind.PRODUCT)
    licensed = _skill("wealth-licence", SkillKind.CERTIFICATION)
    available("cards-only", general_team, skills=(cards,))
    available("both", general_team, skills=(cards, licensed))
    rule = routing_rule_create(
        name="理财信用卡", team=general_team, actor=None, required_skills=[cards, licensed]
    )
    assert _assignees(2) == ["both", "both"]
    rule.required_skills.add(_skill("nobody-has-it", SkillKind.CERTIFICATION))
    case = _case()
    outcome = _route(case)
    assert outcome.reason == RoutingReason.NOBODY_AVAILABLE and outcome.assignee is None
    assert case.team == general_team and case.assignee is None  # waits in the team's queue


def test_a_language_rule_needs_the_language_skill_of_the_case(general_team, available):
    english = _skill("en", SkillKind.LANGUAGE)
    cantonese_speaker = available("hant", general_team, skills=(_skill("zh-hant", "language"),))
    english_speaker = available("en", general_team, skills=(english,))
    routing_rule_create(name="按语言", team=general_team, actor=None, match_language_skill=True)
    assert _route(_case(language="en")).assignee == english_speaker
    assert _route(_case(language="zh-hant")).assignee == cantonese_speaker
    assert _route(_case(language="zh-hans")).reason == RoutingReason.NOBODY_AVAILABLE


def test_a_per_channel_capacity_caps_that_channel_only(general_team, available):
    agent = available("chat", general_team, capacity=8)
    channel_capacity_set(user=agent, channel="web_chat", max_open_cases=1)
    routing_rule_create(name="全部", team=general_team, actor=None)
    assert _assignees(1, "web_chat") == ["chat"]
    assert _assignees(1, "web_chat") == [None]
    assert _assignees(2, "phone") == ["chat", "chat"]
    channel_capacity_set(user=agent, channel="web_chat", max_open_cases=None)
    assert _assignees(1, "web_chat") == ["chat"]


def test_the_least_loaded_helper_also_respects_channel_capacity(general_team, available):
    agent = available("chat", general_team)
    channel_capacity_set(user=agent, channel="web_chat", max_open_cases=1)
    first, second = _case("web_chat", team=general_team), _case("web_chat", team=general_team)
    assert case_route_to_least_loaded(case=first, team=general_team, actor=None) == agent
    assert case_route_to_least_loaded(case=second, team=general_team, actor=None) is None


def test_a_queue_only_rule_moves_the_case_to_its_team_and_assigns_nobody(
    general_team, complaint_team, available, categories
):
    available("a", complaint_team)
    rule = routing_rule_create(
        name="投诉", team=complaint_team, strategy="manual", is_complaint=True, actor=None
    )
    case = _case(category=categories["complaint_fees"], team=general_team)
    outcome = _route(case)
    assert (outcome.rule, outcome.team, outcome.assignee) == (rule, complaint_team, None)
    assert outcome.reason == RoutingReason.QUEUED
    assert case.team == complaint_team and case.assignee is None
    event = CaseEvent.objects.filter(case=case, kind=EventKind.ASSIGNED).last()
    assert event.data["previous_team_id"] == general_team.pk
    assert event.data["team_id"] == complaint_team.pk


def test_a_case_no_rule_matches_is_left_as_it_is(general_team, available):
    available("a", general_team)
    routing_rule_create(name="仅网聊", team=general_team, channel="web_chat", actor=None)
    case = _case("phone")
    events = CaseEvent.objects.filter(case=case).count()
    outcome = _route(case)
    assert outcome.reason == RoutingReason.NO_RULE
    assert (outcome.rule, outcome.team, outcome.assignee) == (None, None, None)
    assert case.team is None and case.assignee is None
    assert CaseEvent.objects.filter(case=case).count() == events


def test_a_case_with_an_assignee_is_never_reassigned(general_team, available):
    holder = available("holder", general_team)
    available("other", general_team)
    routing_rule_create(name="轮询", team=general_team, strategy="round_robin", actor=None)
    case = _case(team=general_team, assignee=holder)
    events = CaseEvent.objects.filter(case=case).count()
    outcome = _route(case)
    assert outcome.reason == RoutingReason.ALREADY_ASSIGNED and outcome.assignee is None
    assert case.assignee == holder
    assert CaseEvent.objects.filter(case=case).count() == events
    general_team.refresh_from_db()
    assert general_team.round_robin_last_user is None  # nobody's turn was used up


def test_a_closed_case_cannot_be_routed(general_team):
    routing_rule_create(name="全部", team=general_team, actor=None)
    case = _case()
    for status in ("open", "resolved", "closed"):
        case_status_change(case=case, status=status, actor=None)
    with pytest.raises(CaseClosed):
        case_route(case=case, actor=None)
    case.refresh_from_db()
    assert case.team is None and case.status == CaseStatus.CLOSED


def test_routing_records_one_assignment_event_by_the_actor(general_team, available, supervisor):
    agent = available("a", general_team)
    routing_rule_create(name="全部", team=general_team, actor=None)
    case = _case()
    case_route(case=case, actor=supervisor)
    event = CaseEvent.objects.get(case=case, kind=EventKind.ASSIGNED)
    assert event.actor == supervisor
    assert event.data["assignee_id"] == agent.pk and event.data["team_id"] == general_team.pk


def test_each_team_keeps_its_own_round_robin_turn(general_team, available):
    other_team = team_create(code="cards", name="信用卡组")
    for name in ("a", "b"):
        available(name, general_team)
    both = available("c", other_team)
    both.teams.add(general_team)
    routing_rule_create(
        name="网聊", team=other_team, strategy="round_robin", channel="web_chat", actor=None
    )
    routing_rule_create(name="其他", team=general_team, strategy="round_robin", actor=None)
    assert _assignees(2, "phone") == ["a", "b"]
    assert _assignees(1, "web_chat") == ["c"]
    assert _assignees(2, "phone") == ["c", "a"]
