"""The cases API: the contract integrations rely on, including its errors."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bankdesk.sla.services import TargetSpec, sla_policy_create
from bankdesk.tickets.models import Case, CaseEvent, Message
from bankdesk.tickets.services import case_create

pytestmark = pytest.mark.django_db


def _create(api, **fields):
    body = {"subject": "手机银行无法登录", "channel": "app", **fields}
    response = api.post("/cases", body)
    assert response.status_code == 201, response.json_body
    return response.json_body


def test_open_a_case_and_read_it_back(agent_api, customer, categories, general_team, agent):
    created = _create(
        agent_api,
        customer_id=customer.pk,
        category_id=categories["card_lost"].pk,
        team_id=general_team.pk,
        assignee_id=agent.pk,
        text="登录时提示密码错误",
        tags=["app"],
    )
    assert created["status"] == "new"
    assert created["customer"] == {"id": customer.pk, "name": "王小明"}
    assert created["assignee"]["id"] == agent.pk
    assert created["category"]["code"] == "card-lost"
    assert created["tags"] == ["app"]
    fetched = agent_api.get(f"/cases/{created['id']}")
    assert fetched.status_code == 200
    assert fetched.json_body["number"] == created["number"]
    kinds = [e["kind"] for e in agent_api.get(f"/cases/{created['id']}/events").json_body]
    assert kinds == ["created", "assigned", "message_added", "tags_changed"]


def test_an_illegal_transition_answers_409_and_changes_nothing(agent_api):
    case = _create(agent_api)
    events_before = CaseEvent.objects.filter(case_id=case["id"]).count()
    response = agent_api.post(f"/cases/{case['id']}/status", {"status": "closed"})
    assert response.status_code == 409
    assert response.json_body == {
        "code": "invalid_transition",
        "message": "a new case cannot become closed",
        "field": "status",
    }
    assert Case.objects.get(pk=case["id"]).status == "new"
    assert CaseEvent.objects.filter(case_id=case["id"]).count() == events_before


def test_every_change_through_the_api_appends_one_event(agent_api, categories, general_team, agent):
    case = _create(agent_api)
    path = f"/cases/{case['id']}"
    steps = [
        ("post", "/status", {"status": "open"}, 200, "status_changed"),
        ("post", "/priority", {"priority": "urgent"}, 200, "priority_changed"),
        ("post", "/category", {"category_id": categories["cards"].pk}, 200, "category_changed"),
        ("post", "/assign", {"team_id": general_team.pk, "assignee_id": agent.pk}, 200, "assigned"),
        (
            "post",
            "/reply",
            {"text": "您好，已为您重置。", "channel": "phone"},
            201,
            "message_added",
        ),
        ("post", "/notes", {"text": "客户来电两次"}, 201, "note_added"),
        ("put", "/tags", {"tags": ["vip"]}, 200, "tags_changed"),
        ("post", "/status", {"status": "resolved"}, 200, "status_changed"),
    ]
    for method, suffix, body, status, kind in steps:
        before = CaseEvent.objects.filter(case_id=case["id"]).count()
        response = getattr(agent_api, method)(path + suffix, body)
        assert response.status_code == status, (suffix, response.json_body)
        events = CaseEvent.objects.filter(case_id=case["id"]).order_by("id")
        assert events.count() == before + 1
        assert events.last().kind == kind
    detail = agent_api.get(path).json_body
    assert detail["status"] == "resolved" and detail["priority"] == "urgent"
    assert detail["first_response_at"] is not None


def test_merge_through_the_api(agent_api, customer):
    a = _create(agent_api, customer_id=customer.pk, text="first")
    b = _create(agent_api, customer_id=customer.pk, text="second")
    response = agent_api.post(f"/cases/{a['id']}/merge", {"into_case_id": b["id"]})
    assert response.status_code == 200
    assert response.json_body["id"] == b["id"]
    assert agent_api.get(f"/cases/{a['id']}").json_body["merged_into_id"] == b["id"]
    assert len(agent_api.get(f"/cases/{b['id']}/messages").json_body) == 2
    again = agent_api.post(f"/cases/{a['id']}/merge", {"into_case_id": b["id"]})
    assert again.status_code == 409 and again.json_body["code"] == "merge_not_allowed"


@pytest.mark.parametrize(
    "body",
    [
        {"text": "您好，已为您重置。"},
        {"direction": "outbound", "text": "您好", "channel": "email"},
        {"direction": "inbound", "text": "我是客户", "external_id": "real-0001@example.cn"},
    ],
)
def test_staff_write_to_a_case_only_through_the_reply(agent_api, body):
    """No message beside the reply: not an outbound one that is never delivered yet stops the
    first-response clock, nor an inbound one in the customer's name whose made-up id could
    later turn the customer's real message away as a duplicate."""
    case = _create(agent_api, text="登录时提示密码错误")
    messages_before = list(Message.objects.values_list("pk", flat=True))
    events_before = CaseEvent.objects.count()

    response = agent_api.client.post(
        f"/api/v1/cases/{case['id']}/messages",
        json.dumps(body),
        content_type="application/json",
        headers=agent_api.headers,
    )

    assert response.status_code == 405, response.content
    assert list(Message.objects.values_list("pk", flat=True)) == messages_before
    assert CaseEvent.objects.count() == events_before
    assert Case.objects.get(pk=case["id"]).first_response_at is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"channel": "app"}, "subject"),
        ({"subject": "x", "channel": "fax"}, "channel"),
        ({"subject": "   ", "channel": "app"}, "subject"),
        ({"subject": "bad\x00byte", "channel": "app"}, "subject"),
        ({"subject": "x" * 201, "channel": "app"}, "subject"),
        ({"subject": "x", "channel": "app", "customer_id": 2**70}, "customer_id"),
        ({"subject": "x", "channel": "app", "priority": "panic"}, "priority"),
    ],
)
def test_bad_input_answers_422_naming_the_field(agent_api, body, field):
    response = agent_api.post("/cases", body)
    assert response.status_code == 422, response.json_body
    assert response.json_body["code"] == "invalid"
    assert response.json_body["field"] == field
    assert Case.objects.count() == 0


def test_references_to_missing_things_answer_404_with_codes(agent_api):
    assert agent_api.get("/cases/999999").json_body["code"] == "case_not_found"
    missing_customer = agent_api.post(
        "/cases", {"subject": "x", "channel": "app", "customer_id": 424242}
    )
    assert missing_customer.status_code == 404
    assert missing_customer.json_body["code"] == "customer_not_found"
    missing_team = agent_api.post("/cases", {"subject": "x", "channel": "app", "team_id": 424242})
    assert missing_team.json_body == {
        "code": "team_not_found",
        "message": "team 424242 not found",
        "field": "team_id",
    }
    assert Case.objects.count() == 0


def test_malformed_json_is_a_400_not_a_500(agent_api):
    response = agent_api.client.post(
        "/api/v1/cases",
        data="{not json",
        content_type="application/json",
        headers=agent_api.headers,
    )
    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"


def test_no_token_or_a_forged_token_is_a_401(anonymous_api, agent_api, api_for):
    from bankdesk.conftest import ApiClient

    assert anonymous_api.get("/cases").status_code == 401
    forged = ApiClient(agent_api.headers["Authorization"].split()[1][:-2] + "xx")
    response = forged.get("/cases")
    assert response.status_code == 401
    assert response.json_body["code"] == "unauthenticated"


def test_a_naive_created_from_is_refused(agent_api):
    response = agent_api.get("/cases", created_from="2026-01-01T00:00:00")
    assert response.status_code == 422 and response.json_body["field"] == "created_from"
    far = agent_api.get("/cases", created_from="9999-12-31T23:59:59-12:00")
    assert far.status_code == 422


def test_filters_narrow_the_list(agent_api, agent, customer, categories):
    case_create(subject="a", channel="phone", actor=agent, customer=customer, priority="high")
    case_create(subject="b", channel="wechat", actor=agent, category=categories["complaint_fees"])
    case_create(subject="c", channel="wechat", actor=agent)

    def subjects(**filters):
        return sorted(c["subject"] for c in agent_api.get("/cases", **filters).json_body["items"])

    assert subjects() == ["a", "b", "c"]
    assert subjects(channel="wechat") == ["b", "c"]
    assert subjects(priority="high") == ["a"]
    assert subjects(customer_id=customer.pk) == ["a"]
    assert subjects(is_complaint="true") == ["b"]
    assert subjects(category_id=categories["complaint_fees"].pk) == ["b"]
    assert subjects(status=["new"]) == ["a", "b", "c"]
    assert subjects(status=["open"]) == []


def test_cursor_pagination_walks_every_case_exactly_once(agent_api, agent):
    for i in range(23):
        case_create(subject=f"case {i}", channel="phone", actor=agent)
    seen, cursor = [], None
    while True:
        params = {"limit": 5, **({"cursor": cursor} if cursor else {})}
        page = agent_api.get("/cases", **params).json_body
        seen.extend(c["id"] for c in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 23
    assert seen == sorted(seen, reverse=True)


def test_a_forged_cursor_is_a_422(agent_api):
    response = agent_api.get("/cases", cursor="bm90LWEtY3Vyc29y")
    assert response.status_code == 422 and response.json_body["code"] == "invalid_cursor"


def test_the_case_list_query_count_does_not_grow_with_page_size(
    agent_api, agent, customer, categories, general_team
):
    sla_policy_create(
        code="standard",
        name="Standard",
        actor=None,
        targets=[
            TargetSpec(name="First response", metric="first_response", minutes=60),
            TargetSpec(name="Resolution", metric="resolution", minutes=480),
        ],
    )
    for i in range(60):
        case_create(
            subject=f"case {i}",
            channel="phone",
            actor=agent,
            customer=customer,
            category=categories["cards"],
            team=general_team,
            assignee=agent,
            tags=["vip", f"t{i % 3}"],
        )
    agent_api.get("/cases", limit=1)  # the token's once-a-minute last-used write happens here
    counts = {}
    for size in (5, 50):
        with CaptureQueriesContext(connection) as queries:
            response = agent_api.get("/cases", limit=size)
        assert len(response.json_body["items"]) == size
        counts[size] = len(queries)
    assert counts[5] == counts[50], counts
    # token, team ids, the walks of the scope branches (team, assignee, creator) in one
    # statement, the page itself, its tags, its SLA clocks
    assert counts[50] <= 6, counts
    assert all(len(item["sla"]) == 2 for item in response.json_body["items"])


def test_openapi_schema_is_served_and_lists_the_operations(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    paths = json.loads(response.content)["paths"]
    assert "/api/v1/cases" in paths and "/api/v1/cases/{case_id}/merge" in paths
    assert "/api/v1/customers" in paths


def test_every_api_schema_has_its_own_name():
    """OpenAPI components are keyed by class name: two schemas with one name
    would make one operation document the other's body."""
    from ninja import Schema

    from bankdesk.config.api import api  # noqa: F401  (imports every router)

    def descendants(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from descendants(sub)

    ours = [s for s in descendants(Schema) if s.__module__.startswith("bankdesk.")]
    by_name: dict[str, list[str]] = {}
    for schema in ours:
        by_name.setdefault(schema.__name__, []).append(schema.__module__)
    clashes = {name: modules for name, modules in by_name.items() if len(modules) > 1}
    assert len(ours) > 50
    assert clashes == {}


@pytest.mark.parametrize("page_size", [1, 7, 50])
def test_scoped_pages_hold_exactly_the_cases_in_scope_newest_first(
    page_size, agent, supervisor, make_staff, general_team, categories
):
    from bankdesk.staff.services import team_create
    from bankdesk.tickets.access import case_page_for, cases_visible_to
    from bankdesk.tickets.selectors import CaseFilters

    cards = team_create(code="cards", name="信用卡组")
    outsider = make_staff("agent9", "agent", [cards])
    for i in range(30):
        case_create(
            subject=f"c{i}",
            channel="phone",
            actor=[agent, supervisor, outsider, None][i % 4],
            team=[general_team, cards, None][i % 3],
            assignee=agent if i % 5 == 0 and i % 3 == 0 else None,
            category=categories["complaint_fees"] if i % 7 == 0 else None,
        )
    for user in (agent, supervisor, outsider):
        expected = list(
            cases_visible_to(user).order_by("-created_at", "-id").values_list("id", flat=True)
        )
        seen, cursor = [], None
        while True:
            page = case_page_for(user, filters=CaseFilters(), cursor=cursor, limit=page_size)
            seen += [c.pk for c in page.items]
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert seen == expected, user.username
        assert 0 < len(expected) < 30
