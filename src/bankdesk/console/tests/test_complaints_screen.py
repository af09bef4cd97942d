"""The complaint in the console: the workspace's complaint panel takes a complaint from owner
to closure (a refused step says why and keeps what was typed), nobody recused is offered as
owner, and the register lists complaints with the share closed within 24 hours."""

from __future__ import annotations

import pytest

from bankdesk.complaints.choices import ComplaintStatus
from bankdesk.complaints.models import Complaint
from bankdesk.conftest import sign_in_with_second_factor
from bankdesk.staff.choices import Role
from bankdesk.tickets.models import Case
from bankdesk.tickets.services import case_assign, case_complaint_mark, case_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(make_staff, complaint_team):
    return make_staff("officer", Role.COMPLAINT_OFFICER, teams=[complaint_team])


@pytest.fixture
def complaint_case(general_team, complaint_team, agent) -> Case:
    """The agent handled it; then the customer complained about the handling."""
    agent.teams.add(complaint_team)
    case = case_create(subject="年费重复扣收未处理", channel="phone", team=general_team, actor=None)
    case_assign(case=case, team=general_team, assignee=agent, actor=None)
    return case_complaint_mark(case=Case.objects.get(pk=case.pk), actor=None, on="staff")


def _step(client, case: Case, step: str, **fields: str):
    return client.post(f"/cases/{case.pk}/complaint/", {"step": step, **fields})


def test_an_officer_takes_a_complaint_from_owner_to_closure(client, officer, agent, complaint_case):
    sign_in_with_second_factor(client, officer)
    page = client.get(f"/cases/{complaint_case.pk}/").content.decode()
    assert "投诉" in page and "新受理" in page
    owners = page.split('id="complaint-owner"', 1)[1].split("</select>", 1)[0]
    assert "officer" in owners and ">agent<" not in owners  # recused: handled it before
    assert "不得处理" in page

    assert _step(client, complaint_case, "owner", owner=str(officer.pk)).status_code == 302
    assert _step(client, complaint_case, "acknowledged").status_code == 302
    refused = _step(client, complaint_case, "decided", decision="  ", remedy="退还年费 300 元")
    assert refused.status_code == 400
    assert "退还年费 300 元" in refused.content.decode()  # what was typed stays
    assert (
        _step(
            client, complaint_case, "decided", decision="年费系重复扣收", remedy="退还年费 300 元"
        ).status_code
        == 302
    )
    assert _step(client, complaint_case, "response", response="confirmed").status_code == 302
    assert _step(client, complaint_case, "closed").status_code == 302

    complaint = Complaint.objects.get(case=complaint_case)
    assert complaint.status == ComplaintStatus.CLOSED and complaint.owner == officer
    page = client.get(f"/cases/{complaint_case.pk}/").content.decode()
    assert "24 小时内" in page

    register = client.get("/complaints/").content.decode()
    assert complaint_case.number in register and "投诉登记簿" in register
    assert "1 件在受理后 24 小时内办结" in register
    assert complaint_case.number not in client.get("/complaints/?status=received").content.decode()


def test_a_step_out_of_order_is_refused_with_the_reason(client, officer, complaint_case):
    sign_in_with_second_factor(client, officer)
    refused = _step(client, complaint_case, "closed")
    assert refused.status_code == 409
    assert Complaint.objects.get(case=complaint_case).status == ComplaintStatus.RECEIVED


def test_who_does_not_handle_complaints_sees_no_panel_and_takes_no_step(
    client, agent, complaint_case, make_staff, general_team
):
    supervisor = make_staff("boss", Role.SUPERVISOR, teams=[general_team])
    client.force_login(agent)
    assert (
        'class="card complaint-panel"'
        not in client.get(f"/cases/{complaint_case.pk}/").content.decode()
    )
    assert _step(client, complaint_case, "acknowledged").status_code == 403
    assert client.get("/complaints/").status_code == 403
    sign_in_with_second_factor(client, supervisor)
    assert client.get("/complaints/").status_code == 200
    assert Complaint.objects.get(case=complaint_case).status == ComplaintStatus.RECEIVED
