"""The follow-up rate, CSAT, NPS and response rate equal hand counts on a fixture, overall and
by agent and month."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bankdesk.feedback.followups import CallResult, follow_up_call_record
from bankdesk.feedback.indicators import indicators
from bankdesk.feedback.models import FollowUp, Survey, SurveyResponse
from bankdesk.feedback.surveys import survey_answer, survey_link_token
from bankdesk.feedback.tests.conftest import resolved_case

pytestmark = pytest.mark.django_db

NOVEMBER = (datetime(2026, 10, 31, 16, 0, tzinfo=UTC), datetime(2026, 11, 30, 16, 0, tzinfo=UTC))

# (agent, call outcome or None: not called yet, link answer (csat, nps) or None)
FIXTURE = [
    ("a", "satisfied", (5, 10)),
    ("a", "satisfied", (4, 9)),
    ("a", "unreachable", (3, 6)),
    ("a", None, None),
    ("b", "neutral", (2, 0)),
    ("b", "refused", None),
    ("b", "satisfied", (5, 8)),
    ("b", None, (1, None)),
]


@pytest.fixture
def november(feedback_data, morning, make_staff, general_team, customer, settings):
    settings.BANKDESK_SURVEY_PERIOD_DAYS = 0  # every case surveyed, for the count
    agents = {k: make_staff(f"agent_{k}", teams=[general_team]) for k in "ab"}
    for who, call, scores in FIXTURE:
        case = resolved_case(customer, agents[who], assignee=agents[who], team=general_team)
        follow_up = FollowUp.objects.get(case=case)
        if call == "unreachable":
            result = CallResult(outcome="wrong_number")
        elif call == "refused":
            result = CallResult(outcome="refused")
        elif call is not None:
            result = CallResult(outcome="reached", verdict=call)
        if call is not None:
            follow_up_call_record(follow_up=follow_up, result=result, actor=agents[who])
        if scores is not None:
            csat, nps = scores
            given = {"csat": csat} | ({"nps": nps} if nps is not None else {})
            survey_answer(token=survey_link_token(Survey.objects.get(case=case)), given=given)
    # One case of agent a outside the period: counted nowhere.
    outside = resolved_case(customer, agents["a"], assignee=agents["a"], team=general_team)
    FollowUp.objects.filter(case=outside).update(resolved_at=NOVEMBER[0] - timedelta(days=3))
    Survey.objects.filter(case=outside).update(send_at=NOVEMBER[0] - timedelta(days=3))
    return agents


def test_the_indicators_equal_the_hand_count(november):
    [whole] = indicators(since=NOVEMBER[0], until=NOVEMBER[1])
    # Follow-ups done (reached with a verdict): rows 1, 2, 5, 7 of 8 needing one.
    assert (whole.follow_up.numerator, whole.follow_up.denominator) == (4, 8)
    assert whole.follow_up.percent == 50.0
    # CSAT: scores 5, 4, 3, 2, 5, 1 → 4 or 5 in three of six.
    assert (whole.csat.numerator, whole.csat.denominator) == (3, 6)
    # NPS: 10, 9 promoters; 6, 0 detractors; 8 passive → (2 - 2) / 5.
    assert (whole.nps.promoters, whole.nps.detractors, whole.nps.answers) == (2, 2, 5)
    assert whole.nps.score == 0.0
    # Response rate: 6 of the 8 invitations in the period answered.
    assert (whole.response.numerator, whole.response.denominator) == (6, 8)
    assert SurveyResponse.objects.count() == 6


def test_by_agent_and_by_month(november):
    by_agent = {
        row.label: row for row in indicators(since=NOVEMBER[0], until=NOVEMBER[1], by="agent")
    }
    a, b = (
        by_agent[november["a"].get_full_name() or "agent_a"],
        by_agent[november["b"].get_full_name() or "agent_b"],
    )
    assert (a.follow_up.numerator, a.follow_up.denominator) == (2, 4)
    assert (b.follow_up.numerator, b.follow_up.denominator) == (2, 4)
    assert (a.csat.numerator, a.csat.denominator) == (2, 3)
    assert (b.csat.numerator, b.csat.denominator) == (1, 3)
    months = indicators(since=NOVEMBER[0] - timedelta(days=30), until=NOVEMBER[1], by="month")
    assert [(m.label, m.follow_up.denominator) for m in months] == [("2026-10", 1), ("2026-11", 8)]


def test_the_api_gives_the_same_counts_to_supervisors_only(november, api_for, supervisor, agent):
    since, until = (moment.isoformat() for moment in NOVEMBER)
    path = "/feedback/indicators"
    assert api_for(agent).get(path, since=since, until=until).status_code == 403
    api = api_for(supervisor)
    [whole] = api.get(path, since=since, until=until).json()
    assert whole["follow_up_rate"] == {"numerator": 4, "denominator": 8, "percent": 50.0}
    assert whole["csat"]["numerator"] == 3 and whole["nps"]["score"] == 0.0
    months = api.get(path, since=since, until=until, by="month").json()
    assert [m["key"] for m in months] == ["2026-11"]
    assert api.get(path, since=until, until=since).status_code == 422
