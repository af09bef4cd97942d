"""Segments with their reasons, plans and what they do to routing, next-best-actions and the
consents that gate them, and personalised-service coverage against a hand count."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone, translation

from bankdesk.analytics.drill import drill_items
from bankdesk.analytics.kpis import kpis_compute
from bankdesk.analytics.periods import quarter_period
from bankdesk.customers.choices import ConsentSource, LifeEventKind
from bankdesk.customers.models import Customer, LifeEvent
from bankdesk.customers.profile import consent_record, life_event_record
from bankdesk.customers.services import HoldingInput, customer_create
from bankdesk.lib.errors import Conflict, InvalidInput, NotFound
from bankdesk.personalization.choices import SuggestionStatus
from bankdesk.personalization.models import (
    Membership,
    PlanAssignment,
    Segment,
    ServicePlan,
    Suggestion,
)
from bankdesk.personalization.refresh import personalization_refresh
from bankdesk.personalization.segments import reason_text, rule_check
from bankdesk.personalization.selectors import coverage_at, coverage_customers, personal_of
from bankdesk.personalization.services import suggestion_decide
from bankdesk.staff.choices import Presence, Role
from bankdesk.staff.models import User
from bankdesk.tickets.choices import Priority, RoutingReason
from bankdesk.tickets.models import Case
from bankdesk.tickets.services import case_create

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 10, 10, 0, tzinfo=SHANGHAI)

pytestmark = pytest.mark.django_db


def _customer(
    number: str,
    *,
    birth_year: int | None = None,
    tier: str = "standard",
    line: str = "retail",
    holdings: int = 0,
) -> Customer:
    made = customer_create(
        customer_number=number,
        name=f"客户{number}",
        tier=tier,
        segment=line,
        holdings=[
            HoldingInput(
                kind="account", product="储蓄账户", reference=f"{number}-{i}", last4="1234"
            )
            for i in range(holdings)
        ],
    )
    Customer.objects.filter(pk=made.pk).update(birth_year=birth_year)
    made.refresh_from_db()
    return made


def _case(
    customer: Customer, *, channel: str = "phone", days_ago: int = 10, complaint: bool = False
) -> Case:
    return case_create(
        subject="问题",
        channel=channel,
        actor=None,
        customer=customer,
        text="你好",
        created_at=NOW - timedelta(days=days_ago),
        is_complaint=complaint,
    )


@pytest.fixture
def town(migrated_data: None) -> dict[str, Customer]:
    """Five customers, each made to fall (or not) into the seeded segments:

    - senior: 70, calls by phone → seniors (plan elderly-friendly), digital help, fraud tips;
    - rich: private banking, 3 products → private-banking plan, wealth review (marketing);
    - retiree: retired this year, marketing consent given → new retirees, retirement planning;
    - withdrawn: retired this year, marketing consent given then withdrawn → no marketing;
    - quiet: no case in the last year → not active for coverage.
    """
    with time_machine.travel(NOW - timedelta(days=30), tick=False):
        town = {
            "senior": _customer("C-SEN1", birth_year=1956),
            "rich": _customer(
                "C-RICH", birth_year=1970, tier="gold", line="private_banking", holdings=3
            ),
            "retiree": _customer("C-RET1", birth_year=1965),
            "withdrawn": _customer("C-RET2", birth_year=1965),
            "quiet": _customer("C-QUIET", birth_year=1990),
        }
        for key in ("retiree", "withdrawn"):
            life_event_record(
                customer=town[key],
                kind=LifeEventKind.RETIREMENT,
                occurred_on=date(2026, 6, 1),
                actor=None,
            )
            consent_record(
                customer=town[key],
                purpose="marketing",
                granted=True,
                source=ConsentSource.BRANCH,
                actor=None,
            )
        consent_record(
            customer=town["rich"],
            purpose="marketing",
            granted=True,
            source=ConsentSource.ONLINE,
            actor=None,
        )
    with time_machine.travel(NOW - timedelta(days=1), tick=False):
        consent_record(
            customer=town["withdrawn"],
            purpose="marketing",
            granted=False,
            source=ConsentSource.PHONE,
            actor=None,
        )
    for _ in range(3):
        _case(town["senior"], channel="phone")
    _case(town["rich"], channel="app")
    _case(town["retiree"], channel="wechat")
    _case(town["withdrawn"], channel="wechat")
    _case(town["quiet"], channel="email", days_ago=400)
    return town


def _segments(customer: Customer) -> set[str]:
    return set(Membership.objects.filter(customer=customer).values_list("segment__code", flat=True))


def _actions(customer: Customer) -> set[str]:
    return set(Suggestion.objects.filter(customer=customer).values_list("action", flat=True))


def test_rule_segments_hold_their_members_with_the_reasons(town):
    with time_machine.travel(NOW, tick=False):
        counts = personalization_refresh()
    assert counts.customers == 5
    assert {"seniors"} <= _segments(town["senior"])
    assert {"private-banking"} <= _segments(town["rich"])
    assert {"new-retirees"} <= _segments(town["retiree"])
    assert "seniors" not in _segments(town["rich"])
    seniors = Membership.objects.get(customer=town["senior"], segment__code="seniors")
    assert seniors.reasons == [{"rule": "age_min", "value": 70, "limit": 65}]
    with translation.override("en"):
        assert reason_text(seniors.reasons[0]) == "Age 70 (65 or over)"
    with translation.override("zh-hans"):
        assert reason_text(seniors.reasons[0]) == "年龄 70（65 岁及以上）"
    retired = Membership.objects.get(customer=town["retiree"], segment__code="new-retirees")
    assert retired.reasons == [{"rule": "life_events", "value": "retirement", "on": "2026-06-01"}]


def test_behaviour_clusters_put_everyone_in_one_and_say_why(town):
    with time_machine.travel(NOW, tick=False):
        personalization_refresh()
    clusters = Membership.objects.filter(segment__kind="cluster")
    assert clusters.count() == 5  # every real customer, once
    for customer in town.values():
        assert clusters.filter(customer=customer).count() == 1
    member = clusters.get(customer=town["senior"])
    assert len(member.reasons) == 3
    assert {"feature", "value", "centre"} == set(member.reasons[0])
    # The centre of a one-customer cluster is the customer; a cluster is named by its features.
    assert all(Segment.objects.get(pk=s).name for s in clusters.values_list("segment", flat=True))
    with time_machine.travel(NOW, tick=False):
        personalization_refresh()  # a second run keeps the clusters where they were
    assert clusters.get(customer=town["senior"]).segment_id == member.segment_id


def test_plans_follow_the_segments_lowest_position_first(town):
    with time_machine.travel(NOW, tick=False):
        counts = personalization_refresh()
    assert counts.plans_started == 2
    plans = dict(
        PlanAssignment.objects.filter(ended_at=None).values_list(
            "customer__customer_number", "plan__code"
        )
    )
    assert plans == {"C-SEN1": "elderly-friendly", "C-RICH": "private-rm"}
    # Two more complaints make the senior a repeat complainant: that plan comes first.
    _case(town["senior"], complaint=True, days_ago=2)
    _case(town["senior"], complaint=True, days_ago=1)
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        counts = personalization_refresh()
    assert (counts.plans_ended, counts.plans_started) == (1, 1)
    history = PlanAssignment.objects.filter(customer=town["senior"]).order_by("started_at")
    assert [(a.plan.code, a.ended_at is None) for a in history] == [
        ("elderly-friendly", False),
        ("repeat-care", True),
    ]


def test_a_withdrawn_marketing_consent_means_no_marketing_suggestion(town):
    with time_machine.travel(NOW, tick=False):
        personalization_refresh()
    assert "retirement_planning" in _actions(town["retiree"])
    assert "retirement_planning" not in _actions(town["withdrawn"])
    assert "wealth_review" in _actions(town["rich"])
    assert {"digital_banking_help", "fraud_awareness"} <= _actions(town["senior"])
    # Withdrawn after the suggestion was made: no longer shown, and it cannot be accepted.
    consent_record(
        customer=town["rich"],
        purpose="marketing",
        granted=False,
        source=ConsentSource.APP,
        actor=None,
    )
    shown = personal_of(town["rich"])
    assert shown is not None
    assert "wealth_review" not in {s.action.code for s in shown.suggestions}
    wealth = Suggestion.objects.get(customer=town["rich"], action="wealth_review")
    agent = User.objects.create(username="a1", role=Role.AGENT)
    with pytest.raises(Conflict):
        suggestion_decide(
            suggestion_id=wealth.pk, customer_id=town["rich"].pk, outcome="accepted", actor=agent
        )


def test_a_suggestion_is_made_once_decided_once_and_expires_as_ignored(town):
    with time_machine.travel(NOW, tick=False):
        personalization_refresh()
        personalization_refresh()
    fraud = Suggestion.objects.get(customer=town["senior"], action="fraud_awareness")
    agent = User.objects.create(username="a1", role=Role.AGENT)
    with pytest.raises(InvalidInput):
        suggestion_decide(
            suggestion_id=fraud.pk, customer_id=town["senior"].pk, outcome="maybe", actor=agent
        )
    with pytest.raises(NotFound):  # another customer's suggestion
        suggestion_decide(
            suggestion_id=fraud.pk, customer_id=town["rich"].pk, outcome="accepted", actor=agent
        )
    suggestion_decide(
        suggestion_id=fraud.pk, customer_id=town["senior"].pk, outcome="declined", actor=agent
    )
    with pytest.raises(Conflict):
        suggestion_decide(
            suggestion_id=fraud.pk, customer_id=town["senior"].pk, outcome="accepted", actor=agent
        )
    with time_machine.travel(NOW + timedelta(days=31), tick=False):
        counts = personalization_refresh()
    assert counts.ignored >= 1
    assert Suggestion.objects.get(
        customer=town["senior"], action="digital_banking_help", status="ignored"
    )
    # Declined within the cooldown: not suggested again.
    assert not Suggestion.objects.filter(
        customer=town["senior"], action="fraud_awareness", status="open"
    ).exists()


def test_coverage_equals_a_hand_count_and_drills_to_the_same_customers(town):
    with time_machine.travel(NOW, tick=False):
        personalization_refresh()
    agent = User.objects.create(username="a1", role=Role.AGENT)
    retire = Suggestion.objects.get(customer=town["retiree"], action="retirement_planning")
    with time_machine.travel(NOW + timedelta(hours=2), tick=False):
        suggestion_decide(
            suggestion_id=retire.pk, customer_id=town["retiree"].pk, outcome="accepted", actor=agent
        )
    # By hand: active = senior, rich, retiree, withdrawn (quiet's only case is 400 days old);
    # covered = senior (elderly-friendly plan), rich (private-banking plan), retiree (accepted).
    period = quarter_period("2026Q4")
    coverage = coverage_at(period.until)
    assert (coverage.covered, coverage.active, coverage.value) == (3, 4, 75.0)

    def numbers(part: str) -> list[str]:
        found = coverage_customers(period.until, part)
        return sorted(found.values_list("customer_number", flat=True))

    assert numbers("active") == ["C-RET1", "C-RET2", "C-RICH", "C-SEN1"]
    assert numbers("covered") == ["C-RET1", "C-RICH", "C-SEN1"]
    result = next(r for r in kpis_compute(period, codes=["personalised_coverage"]))
    assert (result.value.value, result.value.numerator, result.value.denominator) == (75.0, 3, 4)
    assert result.status == "met"  # target 70
    covered = drill_items("personalised_coverage", period, part="numerator")
    active = drill_items("personalised_coverage", period, part="denominator")
    assert [i.item for i in covered] == ["C-RET1", "C-RICH", "C-SEN1"]
    assert len(active) == 4
    assert {i.customer_id for i in covered} == set(
        coverage_customers(period.until, "covered").values_list("pk", flat=True)
    )
    # Before the plans began, the quarter before reads no coverage.
    earlier = coverage_at(quarter_period("2026Q3").until)
    assert earlier.covered == 0
    with pytest.raises(InvalidInput):
        drill_items("personalised_coverage", period, part="numerator", dimension="tier", key="gold")


@pytest.fixture
def manager(migrated_data: None, general_team) -> User:
    manager = User.objects.create(
        username="rm", role=Role.AGENT, presence=Presence.AVAILABLE, max_open_cases=5
    )
    manager.teams.add(general_team)
    return manager


def test_a_plan_routes_to_the_relationship_manager_and_raises_the_priority(town, manager):
    Customer.objects.filter(pk=town["rich"].pk).update(relationship_manager=manager)
    with time_machine.travel(NOW, tick=False):
        personalization_refresh()
    case = case_create(
        subject="转账",
        channel="phone",
        actor=None,
        customer=Customer.objects.get(pk=town["rich"].pk),
        text="请回电",
        route=True,
    )
    case.refresh_from_db()
    assert case.assignee == manager
    assert case.priority == Priority.HIGH
    # The manager away: the routing rules decide (none here), the priority still rises.
    User.objects.filter(pk=manager.pk).update(presence=Presence.OFFLINE)
    second = case_create(
        subject="转账",
        channel="phone",
        actor=None,
        customer=Customer.objects.get(pk=town["rich"].pk),
        text="再次",
        route=True,
    )
    second.refresh_from_db()
    assert second.assignee is None
    assert second.priority == Priority.HIGH


def _working(make_staff, username: str, role: str, team) -> User:
    person = make_staff(username, role, [team])
    User.objects.filter(pk=person.pk).update(presence=Presence.AVAILABLE)
    return person


def _contact(customer: Customer, *, route: bool = True, **fields) -> Case:
    """The segments worked out, then a call from the customer (routed unless told not to)."""
    with time_machine.travel(NOW, tick=False):
        personalization_refresh()
    case = case_create(
        subject="转账",
        channel="phone",
        actor=None,
        customer=Customer.objects.get(pk=customer.pk),
        text="请回电",
        route=route,
        **fields,
    )
    case.refresh_from_db()
    return case


def test_a_manager_outside_the_plans_team_is_passed_over_for_the_team(
    town, manager, complaint_team, make_staff
):
    """The plan names a team the manager is not in: the case goes to that team's people, and
    case intake never fails for it."""
    desk = _working(make_staff, "desk", Role.AGENT, complaint_team)
    Customer.objects.filter(pk=town["rich"].pk).update(relationship_manager=manager)
    ServicePlan.objects.filter(code="private-rm").update(team=complaint_team)
    case = _contact(town["rich"])
    assert (case.team, case.assignee) == (complaint_team, desk)


def test_a_complaint_follows_the_complaint_rules_with_the_plans_priority(
    town, manager, complaint_team, make_staff
):
    from bankdesk.tickets.routing_rules import routing_rule_create

    officer = _working(make_staff, "officer", Role.COMPLAINT_OFFICER, complaint_team)
    routing_rule_create(name="投诉", team=complaint_team, is_complaint=True, actor=None)
    Customer.objects.filter(pk=town["rich"].pk).update(relationship_manager=manager)
    case = _contact(town["rich"], is_complaint=True)
    assert (case.team, case.assignee, case.priority) == (complaint_team, officer, Priority.HIGH)


def test_routing_says_why_the_plan_chose(town, manager):
    from bankdesk.tickets.routing import case_route

    Customer.objects.filter(pk=town["rich"].pk).update(relationship_manager=manager)
    outcome = case_route(case=_contact(town["rich"], route=False), actor=None)
    assert (outcome.assignee, outcome.reason) == (manager, RoutingReason.SERVICE_PLAN)


def test_a_plan_with_a_team_routes_there(town, general_team, make_staff):
    member = _working(make_staff, "desk", Role.AGENT, general_team)
    ServicePlan.objects.filter(code="elderly-friendly").update(team=general_team)
    case = _contact(town["senior"])
    assert (case.team, case.assignee) == (general_team, member)


def test_rules_are_checked_before_they_are_kept():
    assert rule_check({"age_min": 60, "holds": ["loan", "card"]}) == {
        "age_min": 60,
        "holds": ["card", "loan"],
    }
    for bad in (
        {},
        [],
        {"colour": ["red"]},
        {"tiers": ["gold", "bronze"]},
        {"age_min": "60"},
        {"age_min": True},
        {"age_min": 70, "age_max": 60},
        {"life_event_days": 30},
        {"complaints_min": -1},
    ):
        with pytest.raises(InvalidInput):
            rule_check(bad)


def test_nobody_is_segmented_before_the_first_run(town):
    assert not Membership.objects.exists()
    assert coverage_at(timezone.now()).covered == 0
    assert SuggestionStatus.OPEN == "open"


def test_every_reason_an_action_gives_can_be_said():
    from bankdesk.personalization.actions import ACTIONS
    from bankdesk.personalization.profiles import Profile

    profile = Profile(
        customer_id=1, tier="diamond", line="retail", age=70, today=date(2026, 11, 10)
    )
    profile.contacts["phone"] = 3
    profile.complaints = 2
    profile.accessibility = ("large_print",)
    profile.life_events = {"retirement": date(2026, 6, 1), "business_opened": date(2026, 5, 1)}
    profile.holding_kinds["account"] = 4
    for action in ACTIONS:
        for reason in action.fits(profile) or []:
            assert not reason_text(reason).startswith("{"), (action.code, reason)


def test_an_accessibility_need_stays_sealed_in_the_reasons(migrated_data):
    from django.db import connection

    customer = _customer("C-ACC1", birth_year=1950)
    customer.accessibility = "hearing,large_print"
    customer.save()
    _case(customer)
    with time_machine.travel(NOW, tick=False):
        personalization_refresh()
    for table in ("membership", "planassignment", "suggestion"):
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT reasons FROM personalization_{table} WHERE customer_id = %s",
                [customer.pk],
            )
            stored = " ".join(str(row[0]) for row in cursor.fetchall())
        assert "hearing" not in stored and "large_print" not in stored, table
    shown = personal_of(Customer.objects.get(pk=customer.pk))
    assert shown is not None
    with translation.override("en"):
        said = [reason_text(r, ["hearing"]) for r in [{"rule": "accessibility"}]]
    assert said == ["Needs: Hard of hearing"]
    assert any("大字版" in " ".join(s.reasons) for s in shown.suggestions)


def test_an_expired_suggestion_is_neither_shown_nor_taken(town):
    with time_machine.travel(NOW, tick=False):
        personalization_refresh()
    fraud = Suggestion.objects.get(customer=town["senior"], action="fraud_awareness")
    agent = User.objects.create(username="a1", role=Role.AGENT)
    later = NOW + timedelta(days=31)
    with time_machine.travel(later, tick=False):
        shown = personal_of(Customer.objects.get(pk=town["senior"].pk))
        assert shown is not None and not shown.suggestions
        with pytest.raises(Conflict):
            suggestion_decide(
                suggestion_id=fraud.pk,
                customer_id=town["senior"].pk,
                outcome="accepted",
                actor=agent,
            )


def test_an_old_life_event_makes_no_offer(migrated_data):
    customer = _customer("C-OLDRET", birth_year=1940)
    LifeEvent.objects.create(customer=customer, kind="retirement", occurred_on=date(2005, 3, 1))
    consent_record(
        customer=customer,
        purpose="marketing",
        granted=True,
        source=ConsentSource.BRANCH,
        actor=None,
    )
    _case(customer)
    with time_machine.travel(NOW, tick=False):
        personalization_refresh()
    assert "retirement_planning" not in _actions(customer)
    assert "new-retirees" not in _segments(customer)


def test_consents_are_read_for_a_whole_bank_of_ids(migrated_data):
    from bankdesk.customers.profile import customers_allowing

    customer = _customer("C-MANY")
    consent_record(
        customer=customer,
        purpose="marketing",
        granted=True,
        source=ConsentSource.BRANCH,
        actor=None,
    )
    many = [*range(10_000_000, 10_050_000), customer.pk]
    assert customers_allowing(many, "marketing") == {customer.pk}
    assert len(customers_allowing(many, "service")) == len(many)
