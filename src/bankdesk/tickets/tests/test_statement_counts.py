"""How many SQL statements the busiest requests run: a small, fixed number, whatever the size of
the case (its messages, events and clocks) or of the database.

Each test runs the same request against a case with a short history and one with a long one (or
a small and a large table) and asks for the same count, under a budget that says where they go.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bankdesk.customers.models import Customer
from bankdesk.sla.services import TargetSpec
from bankdesk.sla.tests.policies import standard_policy_create
from bankdesk.staff.models import User
from bankdesk.tickets.choices import CaseStatus, Direction
from bankdesk.tickets.services import case_create, case_message_add, case_status_change

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def standard_policy(db: None) -> None:
    standard_policy_create(
        TargetSpec(name="First response 4h", metric="first_response", minutes=240),
        TargetSpec(name="Resolution 3 days", metric="resolution", minutes=1440),
    )


def _case_with_history(customer: Customer, agent: User, messages: int) -> int:
    case = case_create(
        subject="转账失败", channel="email", actor=agent, customer=customer, text="请帮我查询"
    )
    case_status_change(case=case, status=CaseStatus.OPEN, actor=agent)
    for n in range(messages):
        direction = Direction.OUTBOUND if n % 2 else Direction.INBOUND
        case_message_add(
            case=case,
            direction=direction,
            channel="email",
            text=f"第 {n} 封",
            actor=agent if direction == Direction.OUTBOUND else None,
        )
    return int(case.pk)


def _statements(call: Callable[[], object]) -> int:
    with CaptureQueriesContext(connection) as queries:
        call()
    return len(queries)


def _same_for_short_and_long(
    customer: Customer, agent: User, request: Callable[[int], object]
) -> int:
    short = _case_with_history(customer, agent, messages=2)
    long = _case_with_history(customer, agent, messages=30)
    request(short)  # the token's once-a-minute last-used write happens here
    counts = {
        size: _statements(lambda case_id=case_id: request(case_id))
        for size, case_id in (("short", short), ("long", long))
    }
    assert counts["short"] == counts["long"], counts
    return counts["long"]


def test_opening_a_case_runs_a_fixed_number_of_statements(agent_api, customer):
    def create() -> None:
        response = agent_api.post(
            "/cases",
            {"subject": "转账失败", "channel": "app", "customer_id": customer.pk, "text": "请查询"},
        )
        assert response.status_code == 201, response.json_body

    create()
    first = _statements(create)
    for _ in range(20):
        create()
    assert _statements(create) == first
    # token, customer, the case and its event (+ audit), conversation, message and its event
    # (+ audit), routing (the case, the customer's service plan, its rule), SLA (stamp, clocks,
    # history, two clocks written), the case number, and the case read back whole (team ids,
    # case, tags, clocks)
    assert first <= 36, first


def test_a_status_change_runs_a_fixed_number_of_statements(agent_api, customer, agent):
    def change(case_id: int) -> None:
        for status in ("pending_customer", "open"):
            response = agent_api.post(f"/cases/{case_id}/status", {"status": status})
            assert response.status_code == 200, response.json_body

    count = _same_for_short_and_long(customer, agent, change)
    # per change: token, team ids, the case in scope, the case locked, its update, event and
    # audit, SLA (stamp, clocks with pauses, tier, history, clock writes, the case's next due
    # time, which a pause clears and a resume sets), the case read back
    assert count <= 2 * 22, count


def test_a_reply_runs_a_fixed_number_of_statements(agent_api, customer, agent):
    def reply(case_id: int) -> None:
        response = agent_api.post(f"/cases/{case_id}/reply", {"text": "您好，已为您查询。"})
        assert response.status_code == 201, response.json_body

    count = _same_for_short_and_long(customer, agent, reply)
    # token, team ids, the case, the customer, where they last wrote, the case locked, its
    # conversation, the message, its event (+ audit), SLA, the address and thread to answer
    # on, the endpoint, the outbox row, the delivery status, the message read back
    assert count <= 34, count


def test_the_case_page_runs_a_fixed_number_of_statements(agent_api, customer, agent):
    def read(case_id: int) -> None:
        assert agent_api.get(f"/cases/{case_id}").status_code == 200

    count = _same_for_short_and_long(customer, agent, read)
    # token, team ids, the case with its customer, team, assignee and branch, tags, clocks
    assert count <= 5, count


def test_the_case_list_runs_a_fixed_number_of_statements(make_staff, api_for, customer, agent):
    supervisor_api = api_for(make_staff("lead", "supervisor", list(agent.teams.all())))
    for _ in range(30):
        _case_with_history(customer, agent, messages=0)
    supervisor_api.get("/cases", limit=1)
    counts = {}
    for size in (5, 25):
        with CaptureQueriesContext(connection) as queries:
            response = supervisor_api.get("/cases", limit=size)
        assert len(response.json_body["items"]) == size
        counts[size] = len(queries)
    assert counts[5] == counts[25], counts
    # token, team ids, the walks of every scope branch (team, assignee, creator, unrouted) in
    # one statement, the page, its tags, its clocks
    assert counts[25] <= 6, counts
