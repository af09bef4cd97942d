"""Working a follow-up: attempts with outcomes, the retry schedule, the verdict; an unhappy
customer reopens the case or makes it a complaint; a case resolved again is called again."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bankdesk.feedback.choices import FollowUpStatus, SurveyStatus
from bankdesk.feedback.errors import FollowUpFinished
from bankdesk.feedback.followups import CallResult, follow_up_call_record
from bankdesk.feedback.models import FollowUp, Survey, SurveyResponse
from bankdesk.feedback.tests.conftest import WORKING_MORNING, resolved_case
from bankdesk.lib.errors import InvalidInput
from bankdesk.tickets.choices import CaseStatus
from bankdesk.tickets.models import Case
from bankdesk.tickets.services import case_status_change

pytestmark = pytest.mark.django_db


@pytest.fixture
def follow_up(feedback_data, morning, customer, agent) -> FollowUp:
    return FollowUp.objects.get(case=resolved_case(customer, agent))


def test_no_answer_follows_the_retry_schedule_then_unreachable(follow_up, agent, settings):
    settings.BANKDESK_FOLLOWUP_RETRY_HOURS = [2, 4]
    follow_up = follow_up_call_record(
        follow_up=follow_up, result=CallResult(outcome="no_answer"), actor=agent
    )
    # 10:00 on a working Tuesday + 2 business hours (lunch 12:00–13:30 on the mainland calendar
    # is not assumed: whatever the calendar says, the retry is later than now and still open).
    assert follow_up.status == FollowUpStatus.OPEN
    first_retry = follow_up.next_attempt_at
    assert first_retry >= WORKING_MORNING + timedelta(hours=2)
    follow_up = follow_up_call_record(
        follow_up=follow_up, result=CallResult(outcome="no_answer"), actor=agent
    )
    assert follow_up.next_attempt_at >= first_retry + timedelta(hours=4) - timedelta(hours=2)
    follow_up = follow_up_call_record(
        follow_up=follow_up, result=CallResult(outcome="no_answer"), actor=agent
    )
    assert follow_up.status == FollowUpStatus.UNREACHABLE
    assert follow_up.attempts == 3
    assert follow_up.owner == agent
    with pytest.raises(FollowUpFinished):
        follow_up_call_record(
            follow_up=follow_up, result=CallResult(outcome="no_answer"), actor=agent
        )


def test_call_back_later_needs_a_time_ahead(follow_up, agent):
    with pytest.raises(InvalidInput):
        follow_up_call_record(
            follow_up=follow_up, result=CallResult(outcome="call_back"), actor=agent
        )
    with pytest.raises(InvalidInput):
        follow_up_call_record(
            follow_up=follow_up,
            result=CallResult(outcome="call_back", call_back_at=WORKING_MORNING - timedelta(1)),
            actor=agent,
        )
    later = WORKING_MORNING + timedelta(hours=6)
    follow_up = follow_up_call_record(
        follow_up=follow_up, result=CallResult(outcome="call_back", call_back_at=later), actor=agent
    )
    assert (follow_up.status, follow_up.next_attempt_at) == (FollowUpStatus.OPEN, later)
    assert follow_up.tries.count() == 1


def test_reached_needs_a_verdict_and_records_the_scores_as_the_survey_answer(follow_up, agent):
    with pytest.raises(InvalidInput):
        follow_up_call_record(
            follow_up=follow_up, result=CallResult(outcome="reached"), actor=agent
        )
    with pytest.raises(InvalidInput):
        follow_up_call_record(
            follow_up=follow_up,
            result=CallResult(outcome="reached", verdict="satisfied", csat=7),
            actor=agent,
        )
    assert not SurveyResponse.objects.exists()
    follow_up = follow_up_call_record(
        follow_up=follow_up,
        result=CallResult(outcome="reached", verdict="satisfied", remarks="很满意", csat=5, nps=10),
        actor=agent,
    )
    assert follow_up.status == FollowUpStatus.DONE
    assert follow_up.remarks == "很满意"
    response = SurveyResponse.objects.get(survey__case=follow_up.case)
    assert (response.csat, response.nps, response.source, response.recorded_by) == (
        5,
        10,
        "call",
        agent,
    )
    assert Survey.objects.get(case=follow_up.case).status == SurveyStatus.ANSWERED
    assert follow_up.case.events.filter(kind="follow_up").count() == 1


def test_an_unhappy_verdict_reopens_the_case_and_the_next_resolution_calls_again(follow_up, agent):
    follow_up = follow_up_call_record(
        follow_up=follow_up,
        result=CallResult(outcome="reached", verdict="unsatisfied", remarks="问题没解决"),
        actor=agent,
    )
    case = Case.objects.get(pk=follow_up.case_id)
    assert case.status == CaseStatus.OPEN
    assert not case.is_complaint
    case_status_change(case=case, status=CaseStatus.RESOLVED, actor=agent)
    again = FollowUp.objects.get(case=case)
    assert (again.pk, again.status, again.round, again.verdict) == (
        follow_up.pk,
        FollowUpStatus.OPEN,
        2,
        "",
    )
    assert Survey.objects.filter(case=case).count() == 1


def test_an_unhappy_customer_who_complains_makes_the_case_a_complaint(follow_up, agent):
    follow_up_call_record(
        follow_up=follow_up,
        result=CallResult(outcome="reached", verdict="unsatisfied", wants_complaint=True),
        actor=agent,
    )
    case = Case.objects.get(pk=follow_up.case_id)
    assert (case.status, case.is_complaint) == (CaseStatus.OPEN, True)
    assert case.complaint.opened_on == "follow_up"


def test_an_unhappy_verdict_on_a_closed_case_opens_a_linked_one(follow_up, agent):
    case = case_status_change(case=follow_up.case, status=CaseStatus.CLOSED, actor=agent)
    follow_up_call_record(
        follow_up=follow_up,
        result=CallResult(
            outcome="reached", verdict="unsatisfied", wants_complaint=True, remarks="还是扣了年费"
        ),
        actor=agent,
    )
    fresh = Case.objects.exclude(pk=case.pk).get()
    assert fresh.is_complaint and fresh.customer_id == case.customer_id
    assert fresh.events.filter(kind="linked").exists()


@pytest.mark.parametrize("outcome", ["refused", "wrong_number"])
def test_a_refusal_or_a_wrong_number_ends_the_follow_up(follow_up, agent, outcome):
    follow_up = follow_up_call_record(
        follow_up=follow_up, result=CallResult(outcome=outcome, note="客户挂断"), actor=agent
    )
    assert follow_up.status in {FollowUpStatus.REFUSED, FollowUpStatus.UNREACHABLE}
    assert follow_up.completed_by == agent
