"""The routing API: reading and adding rules, and routing one case, for every role."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bankdesk.security.models import AuditEntry
from bankdesk.staff.choices import Presence, Role, SkillKind
from bankdesk.staff.models import Skill
from bankdesk.staff.services import staff_presence_set, team_create
from bankdesk.tickets.models import Case, CaseEvent, RoutingRule
from bankdesk.tickets.routing_rules import routing_rule_create
from bankdesk.tickets.services import case_create, case_status_change

pytestmark = pytest.mark.django_db


@pytest.fixture
def skill(db):
    return Skill.objects.create(code="credit-cards", name="信用卡", kind=SkillKind.PRODUCT)


def _body(team, **fields):
    return {"name": "信用卡咨询", "team_id": team.pk, **fields}


def test_supervisors_admins_and_auditors_read_the_rules_in_order(
    api_for, supervisor, admin_user, auditor, general_team, categories, skill
):
    later = routing_rule_create(name="兜底", team=general_team, position=900, actor=None)
    first = routing_rule_create(
        name="信用卡",
        team=general_team,
        position=10,
        category=categories["cards"],
        channel="web_chat",
        strategy="round_robin",
        required_skills=[skill],
        actor=None,
    )
    for user in (supervisor, admin_user, auditor):
        response = api_for(user).get("/routing/rules")
        assert response.status_code == 200
        assert [rule["id"] for rule in response.json_body] == [first.pk, later.pk]
    assert response.json_body[0] == {
        "id": first.pk,
        "name": "信用卡",
        "position": 10,
        "is_active": True,
        "conditions": {
            "category_id": categories["cards"].pk,
            "channel": "web_chat",
            "language": None,
            "customer_tier": None,
            "is_complaint": None,
        },
        "actions": {
            "team": {"id": general_team.pk, "name": general_team.name},
            "strategy": "round_robin",
            "required_skills": [
                {"id": skill.pk, "code": "credit-cards", "name": "信用卡", "kind": "product"}
            ],
            "match_language_skill": False,
        },
    }


def test_the_rule_list_takes_a_fixed_number_of_queries(api_for, supervisor, general_team, skill):
    api = api_for(supervisor)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api.get("/routing/rules").status_code == 200
        return len(captured)

    routing_rule_create(name="一", team=general_team, required_skills=[skill], actor=None)
    api.get("/routing/rules")  # the token's once-a-minute last-used write happens here
    one = queries()
    for n in range(5):
        routing_rule_create(name=f"规则{n}", team=general_team, required_skills=[skill], actor=None)
    assert queries() == one
    # rate-limit counters (2), the token, the rules with their team and category, their skills
    assert one <= 5


@pytest.mark.parametrize("role", [Role.AGENT, Role.COMPLAINT_OFFICER])
def test_people_who_do_not_configure_routing_cannot_read_the_rules(
    api_for, make_staff, general_team, role
):
    response = api_for(make_staff("someone", role, [general_team])).get("/routing/rules")
    assert response.status_code == 403
    assert response.json_body["code"] == "forbidden"


@pytest.mark.parametrize("user", ["supervisor", "admin_user"])
def test_supervisors_and_admins_add_a_rule(request, api_for, user, general_team, categories, skill):
    actor = request.getfixturevalue(user)
    response = api_for(actor).post(
        "/routing/rules",
        _body(
            general_team,
            position=5,
            category_id=categories["cards"].pk,
            channel="phone",
            language="zh-hant",
            customer_tier="gold",
            is_complaint=False,
            strategy="round_robin",
            required_skill_ids=[skill.pk],
            match_language_skill=True,
        ),
    )
    assert response.status_code == 201, response.json_body
    rule = RoutingRule.objects.get()
    assert response.json_body["id"] == rule.pk
    assert (rule.channel, rule.language, rule.customer_tier) == ("phone", "zh-hant", "gold")
    assert rule.is_complaint is False and rule.match_language_skill
    assert list(rule.required_skills.all()) == [skill]
    assert AuditEntry.objects.get(action="routing_rule.create").actor_id == actor.pk


def test_a_rule_with_no_conditions_is_stored_as_matching_anything(
    api_for, admin_user, general_team
):
    response = api_for(admin_user).post("/routing/rules", _body(general_team))
    assert response.status_code == 201
    assert set(response.json_body["conditions"].values()) == {None}
    rule = RoutingRule.objects.get()
    assert (rule.channel, rule.language, rule.customer_tier, rule.strategy) == (
        "",
        "",
        "",
        "least_loaded",
    )


@pytest.mark.parametrize("role", [Role.AGENT, Role.COMPLAINT_OFFICER, Role.AUDITOR])
def test_other_roles_cannot_add_a_rule(api_for, make_staff, general_team, role):
    response = api_for(make_staff("someone", role, [general_team])).post(
        "/routing/rules", _body(general_team)
    )
    assert response.status_code == 403
    assert (
        not RoutingRule.objects.exists()
        and not AuditEntry.objects.filter(action="routing_rule.create").exists()
    )


@pytest.mark.parametrize(
    ("fields", "status", "code", "field"),
    [
        ({"team_id": 999_999}, 404, "team_not_found", "team_id"),
        ({"category_id": 999_999}, 404, "category_not_found", "category_id"),
        ({"required_skill_ids": [999_999]}, 404, "skill_not_found", "required_skill_ids"),
        ({"channel": "pigeon"}, 422, "invalid", "channel"),
        ({"language": "fr"}, 422, "invalid", "language"),
        ({"customer_tier": "bronze"}, 422, "invalid", "customer_tier"),
        ({"strategy": "lottery"}, 422, "invalid", "strategy"),
        ({"name": "   "}, 422, "invalid", "name"),
        ({"position": -1}, 422, "invalid", "position"),
        ({"team_id": 0}, 422, "invalid", "team_id"),
        ({"required_skill_ids": "all"}, 422, "invalid", "required_skill_ids"),
        ({"strategy": "manual", "match_language_skill": True}, 422, "invalid", None),
    ],
)
def test_a_bad_rule_is_refused_with_the_field_at_fault(
    api_for, supervisor, general_team, fields, status, code, field
):
    response = api_for(supervisor).post("/routing/rules", _body(general_team, **fields))
    assert response.status_code == status, response.json_body
    assert response.json_body["code"] == code
    if field is not None:
        assert response.json_body["field"] == field
    assert not RoutingRule.objects.exists()


def test_a_queue_only_rule_cannot_require_skills(api_for, supervisor, general_team, skill):
    response = api_for(supervisor).post(
        "/routing/rules", _body(general_team, strategy="manual", required_skill_ids=[skill.pk])
    )
    assert response.status_code == 422
    assert response.json_body["field"] == "required_skill_ids"


@pytest.fixture
def routed_world(make_staff, general_team, categories):
    """A complaint in no team yet, a rule sending complaints to the general team's people."""
    worker = make_staff("worker", Role.AGENT, [general_team])
    staff_presence_set(user=worker, presence=Presence.AVAILABLE)
    routing_rule_create(name="投诉", team=general_team, is_complaint=True, actor=None)
    case = case_create(
        subject="年费争议", channel="phone", actor=None, category=categories["complaint_fees"]
    )
    return {"worker": worker, "case": case}


@pytest.mark.parametrize("user", ["supervisor", "complaint_officer"])
def test_supervisors_and_complaint_officers_route_a_case(request, api_for, routed_world, user):
    case, worker = routed_world["case"], routed_world["worker"]
    response = api_for(request.getfixturevalue(user)).post(f"/routing/cases/{case.pk}/route")
    assert response.status_code == 200, response.json_body
    body = response.json_body
    assert body["case_id"] == case.pk and body["reason"] == "assigned"
    assert body["rule"]["name"] == "投诉"
    assert body["assignee"] == {"id": worker.pk, "name": "worker"}
    case.refresh_from_db()
    assert case.assignee == worker and case.team_id == body["team"]["id"]


def test_routing_again_leaves_the_assignee_alone(api_for, supervisor, routed_world):
    case = routed_world["case"]
    api = api_for(supervisor)
    assert api.post(f"/routing/cases/{case.pk}/route").json_body["reason"] == "assigned"
    again = api.post(f"/routing/cases/{case.pk}/route")
    assert again.status_code == 200
    assert again.json_body == {
        "case_id": case.pk,
        "rule": None,
        "team": None,
        "assignee": None,
        "reason": "already_assigned",
    }


@pytest.mark.parametrize(
    ("who", "status"),
    [("agent", 403), ("auditor", 403), ("admin_user", 404), ("outsider", 404)],
)
def test_others_cannot_route_and_nothing_changes(
    request, api_for, make_staff, general_team, routed_world, who, status
):
    case = routed_world["case"]
    if who == "outsider":  # an agent of another team: the case is not theirs to see
        user = make_staff("outsider", Role.AGENT, [team_create(code="cards", name="信用卡组")])
    else:
        user = request.getfixturevalue(who)
    # The agent sees the case (it is in their team) but may not route it.
    Case.objects.filter(pk=case.pk).update(team=general_team)
    events = CaseEvent.objects.filter(case=case).count()
    response = api_for(user).post(f"/routing/cases/{case.pk}/route")
    assert response.status_code == status
    assert set(response.json_body) == {"code", "message", "field"}
    case.refresh_from_db()
    assert case.assignee is None
    assert CaseEvent.objects.filter(case=case).count() == events


def test_routing_an_unknown_case_is_404(api_for, supervisor):
    response = api_for(supervisor).post("/routing/cases/999999/route")
    assert response.status_code == 404
    assert response.json_body["code"] == "case_not_found"


def test_routing_a_closed_case_is_409(api_for, supervisor, routed_world, general_team):
    case = routed_world["case"]
    Case.objects.filter(pk=case.pk).update(team=general_team)
    for status in ("open", "resolved", "closed"):
        case_status_change(case=case, status=status, actor=None)
    response = api_for(supervisor).post(f"/routing/cases/{case.pk}/route")
    assert response.status_code == 409
    assert response.json_body["code"] == "case_closed"
