"""Follow-up calls in the console over HTTP: the queue shows what is due, a call is recorded
(a refused one says why), the number to dial is shown only on request and audited, and the
indicators page counts what was done."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from bankdesk.conftest import sign_in_with_second_factor
from bankdesk.feedback.choices import FollowUpStatus
from bankdesk.feedback.models import FollowUp
from bankdesk.feedback.tests.conftest import WORKING_MORNING, resolved_case
from bankdesk.security.models import AuditEntry
from bankdesk.staff.choices import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def follow_up(feedback_data, customer, agent, general_team) -> FollowUp:
    with time_machine.travel(WORKING_MORNING, tick=False):
        case = resolved_case(customer, agent, team=general_team, assignee=agent)
    return FollowUp.objects.get(case=case)


def test_an_agent_works_a_call_from_the_queue(client, agent, follow_up):
    sign_in_with_second_factor(client, agent)
    queue = client.get("/followups/").content.decode()
    assert follow_up.case.number in queue and "回访" in queue
    page = client.get(f"/followups/{follow_up.pk}/").content.decode()
    assert "*********5678" in page and "13812345678" not in page

    revealed = client.post(f"/followups/{follow_up.pk}/", {"action": "reveal"})
    assert "+8613812345678" in revealed.content.decode()
    assert AuditEntry.objects.filter(action="customer.reveal").count() == 1

    refused = client.post(f"/followups/{follow_up.pk}/", {"action": "call", "outcome": "reached"})
    assert refused.status_code == 400
    assert "满意" in refused.content.decode()
    done = client.post(
        f"/followups/{follow_up.pk}/",
        {"action": "call", "outcome": "reached", "verdict": "satisfied", "csat": "5", "nps": "9"},
    )
    assert done.status_code == 302
    follow_up.refresh_from_db()
    assert (follow_up.status, follow_up.owner) == (FollowUpStatus.DONE, agent)


def test_the_queue_shows_only_cases_the_reader_may_see(client, make_staff, follow_up):
    stranger = make_staff("stranger")  # an agent in no team
    sign_in_with_second_factor(client, stranger)
    assert follow_up.case.number not in client.get("/followups/").content.decode()
    assert client.get(f"/followups/{follow_up.pk}/").status_code == 404


def test_indicators_page_for_supervisors_only(client, agent, supervisor, follow_up):
    sign_in_with_second_factor(client, agent)
    assert client.get("/followups/indicators/").status_code == 403
    sign_in_with_second_factor(client, supervisor)
    page = client.get("/followups/indicators/?from=2026-11-01&to=2026-12-01&by=agent")
    assert page.status_code == 200
    assert "0 / 1" in page.content.decode()  # one follow-up needed, none done yet
    bad = client.get("/followups/indicators/?from=2026-12-01&to=2026-11-01")
    assert bad.status_code == 400


def test_an_auditor_reads_the_queue_but_cannot_call(client, make_staff, follow_up):
    auditor = make_staff("auditor_1", Role.AUDITOR)
    sign_in_with_second_factor(client, auditor)
    assert client.get("/followups/?show=due").status_code == 200
    assert client.post(
        f"/followups/{follow_up.pk}/", {"action": "call", "outcome": "no_answer"}
    ).status_code in (403, 404)


def test_a_supervisor_adds_a_follow_up_rule_that_applies_to_the_next_resolution(
    client, agent, supervisor, feedback_data, customer, general_team
):
    from bankdesk.customers.models import Customer
    from bankdesk.feedback.models import FollowUpRule

    sign_in_with_second_factor(client, agent)
    assert client.get("/manage/followups/").status_code == 403
    sign_in_with_second_factor(client, supervisor)
    listed = client.get("/manage/followups/").content.decode()
    assert "Complaints: call back within one working day" in listed
    form = {
        "name": "白金客户当天回访",
        "position": "1",
        "is_active": "on",
        "customer_tier": "platinum",
        "follow_up": "on",
        "due_hours": "0",
    }
    refused = client.post("/manage/followups/new/", form)
    assert refused.status_code == 400
    assert not FollowUpRule.objects.filter(name="白金客户当天回访").exists()
    assert client.post("/manage/followups/new/", {**form, "due_hours": "4"}).status_code == 302
    Customer.objects.filter(pk=customer.pk).update(tier="platinum")
    with time_machine.travel(WORKING_MORNING, tick=False):
        case = resolved_case(customer, agent, team=general_team)
    follow_up = FollowUp.objects.get(case=case)
    assert follow_up.rule.name == "白金客户当天回访"
    assert follow_up.due_at - WORKING_MORNING <= timedelta(hours=6)  # 4 business hours, lunch
    assert AuditEntry.objects.filter(action="followup_rule.create").count() == 1


def test_the_caller_records_the_customers_best_time(client, agent, follow_up):
    from datetime import time

    sign_in_with_second_factor(client, agent)
    url = f"/followups/{follow_up.pk}/"
    half = client.post(url, {"action": "hours", "contact_from": "18:00", "contact_until": ""})
    assert half.status_code == 400
    saved = client.post(url, {"action": "hours", "contact_from": "18:00", "contact_until": "20:30"})
    assert saved.status_code == 302
    follow_up.customer.refresh_from_db()
    assert (follow_up.customer.contact_from, follow_up.customer.contact_until) == (
        time(18),
        time(20, 30),
    )
    assert "18:00–20:30" in client.get("/followups/").content.decode()
