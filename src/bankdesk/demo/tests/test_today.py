"""The demo bank's working day: open cases up to now inside, near and past their SLA, routing
that reaches the available demo staff, a reply that bounced, and macros to answer with."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from bankdesk.demo.today import demo_today_seed
from bankdesk.sla.choices import DueState
from bankdesk.sla.selectors import case_next_due
from bankdesk.tickets.models import Case, Macro, RoutingRule
from bankdesk.tickets.services import case_create

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "demo password for the tests"


@pytest.fixture
def demo_bank() -> None:
    call_command(
        "demo",
        customers=30,
        cases=60,
        seed=5,
        password=PASSWORD,
        no_progress=True,
        stdout=StringIO(),
    )


def _states(cases) -> list[str]:
    now = timezone.now()
    return [
        due.state if (due := case_next_due(list(case.sla_clocks.all()), now)) else ""
        for case in cases
    ]


@pytest.mark.usefixtures("demo_bank")
def test_the_agent_starts_the_day_with_cases_inside_near_and_past_their_sla() -> None:
    today = Case.objects.filter(subject__startswith="【今日】").prefetch_related("sla_clocks")
    mine = [case for case in today if case.assignee and case.assignee.username == "agent"]
    states = _states(mine)
    assert DueState.ON_TRACK in states and DueState.BREACHED in states
    assert DueState.PAUSED in states  # waiting on the customer
    complaints = [case for case in today if case.is_complaint and case.status != "resolved"]
    assert set(_states(complaints)) == {DueState.AT_RISK, DueState.BREACHED}
    assert any(case.assignee is None for case in today)
    newest = max(case.created_at for case in today)
    assert (timezone.now() - newest).total_seconds() < 10 * 60
    bounced = [c for c in mine if c.messages.filter(delivery_status="failed").exists()]
    assert len(bounced) == 1


@pytest.mark.usefixtures("demo_bank")
def test_a_new_chat_is_routed_to_the_available_agent() -> None:
    assert RoutingRule.objects.count() == 3 and Macro.objects.filter(owner=None).count() == 2
    case = case_create(subject="在线咨询：转账限额", channel="web_chat", actor=None, route=True)
    assert case.team.code == "general"
    assert case.assignee is not None and case.assignee.presence == "available"


@pytest.mark.usefixtures("demo_bank")
def test_the_working_day_is_added_once() -> None:
    assert demo_today_seed() == 0
    assert Case.objects.filter(subject__startswith="【今日】").count() == 15


@pytest.mark.usefixtures("demo_bank")
def test_a_complaint_runs_an_extended_statutory_deadline() -> None:
    from bankdesk.complaints.extensions import statutory_clocks
    from bankdesk.complaints.models import Complaint, ComplaintExtension

    extension = ComplaintExtension.objects.select_related("complaint__case").get()
    assert extension.status == "approved" and extension.complaint.case.subject.startswith(
        "【今日】"
    )
    (clock,) = statutory_clocks(Complaint.objects.get(pk=extension.complaint_id))
    assert clock.extension == 1 and clock.minutes == 30 * 24 * 60
    assert extension.due_after == clock.due_at > timezone.now() > extension.requested_at
    assert extension.due_before is not None and extension.due_before < clock.due_at
    told = extension.complaint.case.messages.filter(direction="outbound").order_by("id").last()
    assert told is not None and "30" in told.text


@pytest.mark.usefixtures("demo_bank")
def test_the_follow_up_queue_has_calls_due_later_and_done_with_a_year_behind_them() -> None:
    from datetime import timedelta

    from bankdesk.feedback.indicators import indicators
    from bankdesk.feedback.models import FollowUp

    now = timezone.now()
    today = FollowUp.objects.filter(case__subject__startswith="【今日】")
    due = today.filter(status="open", next_attempt_at__lte=now)
    later = today.filter(status="open", next_attempt_at__gt=now)
    assert due.exists() and later.exists() and today.filter(status="done").exists()
    assert due.filter(is_complaint=True).exists()
    assert today.filter(customer__contact_from__isnull=False).count() == today.count()
    [year] = indicators(since=now - timedelta(days=366), until=now)
    assert year.follow_up.denominator > 20 and year.follow_up.numerator > 0
    assert year.csat.denominator > 0 and year.response.denominator > 0
