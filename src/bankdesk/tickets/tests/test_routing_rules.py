"""Routing rules: which rule decides a case, and what a rule may say."""

from __future__ import annotations

import pytest

from bankdesk.customers.services import customer_create
from bankdesk.lib.errors import InvalidInput
from bankdesk.security.models import AuditEntry
from bankdesk.staff.choices import SkillKind
from bankdesk.staff.models import Skill
from bankdesk.staff.services import team_create
from bankdesk.tickets.models import RoutingRule
from bankdesk.tickets.routing_rules import routing_rule_create, routing_rule_match
from bankdesk.tickets.services import case_create, category_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def cards_team(db):
    return team_create(code="cards", name="信用卡组")


def _rule(team, **conditions):
    return routing_rule_create(name=f"rule {conditions}", team=team, actor=None, **conditions)


def _case(**fields):
    return case_create(subject="咨询", channel=fields.pop("channel", "phone"), actor=None, **fields)


def test_no_rule_matches_when_there_are_none():
    assert routing_rule_match(case=_case()) is None


def test_a_rule_without_conditions_matches_any_case(general_team):
    rule = _rule(general_team)
    assert routing_rule_match(case=_case(channel="email", language="en")) == rule


def test_a_category_rule_matches_the_category_and_everything_under_it(
    general_team, cards_team, categories
):
    rule = _rule(cards_team, category=categories["cards"])
    deeper = category_create(
        code="card-lost-abroad", name="境外挂失", parent=categories["card_lost"]
    )
    assert routing_rule_match(case=_case(category=categories["cards"])) == rule
    assert routing_rule_match(case=_case(category=categories["card_lost"])) == rule
    assert routing_rule_match(case=_case(category=deeper)) == rule
    assert routing_rule_match(case=_case(category=categories["complaint_fees"])) is None
    assert routing_rule_match(case=_case()) is None


def test_a_channel_rule_matches_only_that_channel(general_team):
    rule = _rule(general_team, channel="web_chat")
    assert routing_rule_match(case=_case(channel="web_chat")) == rule
    assert routing_rule_match(case=_case(channel="phone")) is None


def test_a_language_rule_matches_only_that_language(general_team):
    rule = _rule(general_team, language="zh-hant")
    assert routing_rule_match(case=_case(language="zh-hant")) == rule
    assert routing_rule_match(case=_case(language="zh-hans")) is None


def test_a_tier_rule_matches_only_customers_of_that_tier(general_team, customer):
    rule = _rule(general_team, customer_tier="diamond")
    diamond = customer_create(customer_number="6200009999", name="钻石客户", tier="diamond")
    assert routing_rule_match(case=_case(customer=diamond)) == rule
    assert routing_rule_match(case=_case(customer=customer)) is None  # standard tier
    assert routing_rule_match(case=_case()) is None  # no customer, no tier


def test_a_complaint_flag_matches_complaints_or_non_complaints(
    general_team, complaint_team, categories
):
    complaints = _rule(complaint_team, is_complaint=True, position=1)
    others = _rule(general_team, is_complaint=False, position=2)
    assert routing_rule_match(case=_case(category=categories["complaint_fees"])) == complaints
    assert routing_rule_match(case=_case(category=categories["cards"])) == others


def test_every_condition_of_a_rule_must_hold(general_team, categories):
    _rule(general_team, category=categories["cards"], channel="app", language="en")
    assert routing_rule_match(case=_case(category=categories["cards"], channel="app")) is None
    matching = _case(category=categories["card_lost"], channel="app", language="en")
    assert routing_rule_match(case=matching) is not None


def test_the_lowest_position_wins_then_the_oldest_rule(general_team, cards_team, categories):
    catch_all = _rule(general_team, position=100)
    cards = _rule(cards_team, category=categories["cards"], position=10)
    same_position_later = _rule(general_team, category=categories["cards"], position=10)
    assert routing_rule_match(case=_case(category=categories["card_lost"])) == cards
    assert routing_rule_match(case=_case()) == catch_all
    assert same_position_later.pk > cards.pk


def test_an_inactive_rule_never_matches(general_team):
    _rule(general_team, is_active=False)
    assert routing_rule_match(case=_case()) is None


def test_creating_a_rule_is_audited_with_field_names_only(general_team, supervisor):
    skill = Skill.objects.create(code="credit-cards", name="信用卡", kind=SkillKind.PRODUCT)
    rule = routing_rule_create(
        name=" 信用卡咨询 ",
        team=general_team,
        actor=supervisor,
        strategy="round_robin",
        required_skills=[skill, skill],
    )
    assert rule.name == "信用卡咨询"
    assert list(rule.required_skills.all()) == [skill]
    entry = AuditEntry.objects.get(action="routing_rule.create")
    assert entry.actor_id == supervisor.pk and entry.object_id == str(rule.pk)
    assert "required_skills" in entry.fields


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": "  "}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"position": -1}, "position"),
        ({"strategy": "lottery"}, "strategy"),
        ({"channel": "pigeon"}, "channel"),
        ({"language": "fr"}, "language"),
        ({"customer_tier": "bronze"}, "customer_tier"),
        ({"strategy": "manual", "match_language_skill": True}, "match_language_skill"),
    ],
)
def test_a_rule_with_a_bad_value_is_refused(general_team, fields, field):
    arguments = {"name": "规则", **fields}
    with pytest.raises(InvalidInput) as raised:
        routing_rule_create(team=general_team, actor=None, **arguments)
    assert raised.value.field == field
    assert not RoutingRule.objects.exists()


def test_a_rule_on_a_retired_category_is_refused(general_team, categories):
    categories["cards"].is_active = False
    categories["cards"].save()
    with pytest.raises(InvalidInput) as raised:
        _rule(general_team, category=categories["cards"])
    assert raised.value.field == "category_id"
