"""Branch walk-ins and self-service terminal faults through the intake API."""

from __future__ import annotations

from typing import Any

import pytest

from bankdesk.staff.services import branch_create
from bankdesk.tickets.models import Case, Message

pytestmark = pytest.mark.django_db


@pytest.fixture
def branch():
    return branch_create(code="sh-lujiazui", name="上海陆家嘴支行")


def _visit(**changes: Any) -> dict[str, Any]:
    return {"branch": "sh-lujiazui", "text": "客户反映存折无法补登"} | changes


def test_a_walk_in_opens_a_case_at_the_branch(agent_api, branch, customer):
    response = agent_api.post("/intake/branch-visits", _visit(customer_id=customer.pk))

    assert response.status_code == 201, response.json_body
    case = Case.objects.get()
    assert case.channel == "branch" and case.branch == branch
    assert case.customer == customer
    assert "Branch: 上海陆家嘴支行 (sh-lujiazui)" in Message.objects.get().text


def test_a_terminal_fault_is_a_terminal_case_with_its_details(agent_api, branch, customer):
    response = agent_api.post(
        "/intake/branch-visits",
        _visit(
            text="取款未出钞但已扣款",
            visit_id="ATM-0042-20261001-1",
            device_id="ATM-0042",
            transaction_reference="TXN202610010001",
            fault_code="E-CASH-JAM",
            customer_phone="13812345678",
        ),
    )

    assert response.status_code == 201
    case = Case.objects.get()
    assert case.channel == "terminal" and case.branch == branch and case.customer == customer
    text = Message.objects.get().text
    for part in ("Device: ATM-0042", "Transaction: TXN202610010001", "Fault code: E-CASH-JAM"):
        assert part in text


def test_a_report_sent_again_with_its_id_changes_nothing(agent_api, branch):
    agent_api.post("/intake/branch-visits", _visit(visit_id="V1"))
    again = agent_api.post("/intake/branch-visits", _visit(visit_id="V1"))

    assert again.status_code == 200 and again.json_body["outcome"] == "duplicate"
    assert Case.objects.count() == 1


def test_reports_without_an_id_are_separate_cases(agent_api, branch):
    agent_api.post("/intake/branch-visits", _visit())
    agent_api.post("/intake/branch-visits", _visit())
    assert Case.objects.count() == 2


@pytest.mark.parametrize(
    ("changes", "status", "field"),
    [
        ({"branch": "nowhere"}, 404, "branch"),
        ({"branch": ""}, 422, "branch"),
        ({"text": ""}, 422, "text"),
        ({"customer_phone": "garbage"}, 422, "customer_phone"),
        ({"customer_id": 999_999}, 404, "customer_id"),
        ({"fault_code": "x" * 51}, 422, "fault_code"),
    ],
)
def test_bad_reports_are_refused_naming_the_field(agent_api, branch, changes, status, field):
    response = agent_api.post("/intake/branch-visits", _visit(**changes))

    assert response.status_code == status, response.json_body
    assert response.json_body["field"] == field
    assert Case.objects.count() == 0


def test_a_closed_branch_takes_no_reports(agent_api):
    branch_create(code="closed", name="已撤并网点", is_active=False)

    response = agent_api.post("/intake/branch-visits", _visit(branch="closed"))

    assert response.status_code == 422 and response.json_body["field"] == "branch"
    assert Case.objects.count() == 0


def test_an_auditor_may_not_report(auditor, api_for, branch):
    response = api_for(auditor).post("/intake/branch-visits", _visit())

    assert response.status_code == 403
    assert Case.objects.count() == 0
