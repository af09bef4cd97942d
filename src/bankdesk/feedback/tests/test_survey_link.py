"""The survey link through HTTP: works once; forged, expired and reused links are refused with
a page in the customer's language and store nothing; scores out of range are refused."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine
from django.core import signing
from django.db import connection
from django.test import Client

from bankdesk.feedback.choices import SurveyStatus
from bankdesk.feedback.errors import SurveyAnswered, SurveyLinkInvalid
from bankdesk.feedback.models import Survey, SurveyOptOut, SurveyResponse
from bankdesk.feedback.surveys import LINK_SALT, survey_answer, survey_link_token
from bankdesk.feedback.tests.conftest import WORKING_MORNING, resolved_case
from bankdesk.intake.choices import OutboxStatus
from bankdesk.tickets.models import CaseEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def survey(feedback_data, morning, customer, agent) -> Survey:
    return Survey.objects.get(case=resolved_case(customer, agent))


def _url(survey: Survey) -> str:
    return f"/survey/{survey_link_token(survey)}/"


def test_a_link_works_once(survey):
    client = Client()
    page = client.get(_url(survey))
    assert page.status_code == 200
    assert "您对这次服务的整体满意程度如何" in page.content.decode()
    answered = client.post(_url(survey), {"csat": "4", "nps": "9", "comment": "办得很快"})
    assert answered.status_code == 200
    assert "感谢" in answered.content.decode() or "谢谢" in answered.content.decode()
    response = SurveyResponse.objects.get(survey=survey)
    assert (response.csat, response.nps, response.source) == (4, 9, "link")
    assert "办得很快" in response.answers
    survey.refresh_from_db()
    assert survey.status == SurveyStatus.ANSWERED
    assert CaseEvent.objects.filter(case=survey.case, kind="survey_answered").count() == 1

    again = client.post(_url(survey), {"csat": "1"})
    assert again.status_code == 409
    assert "已" in again.content.decode()
    assert SurveyResponse.objects.filter(survey=survey).count() == 1
    assert SurveyResponse.objects.get(survey=survey).csat == 4


def test_a_forged_link_is_refused_and_stores_nothing(survey):
    client = Client()
    forged_id = signing.dumps([survey.pk, "not-the-nonce"], salt=LINK_SALT)
    other_salt = signing.dumps([survey.pk, survey.nonce], salt="bankdesk.help.case-status")
    for token in (forged_id, other_salt, "abc", survey_link_token(survey)[:-2] + "xx"):
        page = client.post(f"/survey/{token}/", {"csat": "5"}, HTTP_ACCEPT_LANGUAGE="en")
        assert page.status_code == 404, token
        assert "This link does not work" in page.content.decode()
    assert not SurveyResponse.objects.exists()


def test_an_expired_link_is_refused_in_the_customers_language(survey, settings):
    survey.language = "en"
    survey.save(update_fields=["language"])
    with time_machine.travel(WORKING_MORNING + timedelta(days=8), tick=False):
        page = Client().post(_url(survey), {"csat": "5"})
    assert page.status_code == 410
    assert "This survey has closed" in page.content.decode()
    assert not SurveyResponse.objects.exists()


@pytest.mark.parametrize(
    "given",
    [{"csat": "6"}, {"csat": "0"}, {"csat": "4", "nps": "11"}, {"csat": "x"}, {}, {"nps": "5"}],
)
def test_scores_out_of_range_are_refused(survey, given):
    page = Client().post(_url(survey), given)
    assert page.status_code == 400
    assert 'role="alert"' in page.content.decode()
    assert not SurveyResponse.objects.exists()
    survey.refresh_from_db()
    assert survey.status == SurveyStatus.SCHEDULED


def test_unknown_answers_are_refused_by_the_service(survey):
    with pytest.raises(SurveyLinkInvalid):
        survey_answer(token="nope", given={"csat": 5})
    from bankdesk.lib.errors import InvalidInput

    with pytest.raises(InvalidInput):
        survey_answer(token=survey_link_token(survey), given={"csat": 5, "salary": "1"})


def test_opting_out_is_remembered_and_withdraws_waiting_invitations(feedback_data, customer, agent):
    with time_machine.travel(WORKING_MORNING, tick=False):
        first = Survey.objects.get(case=resolved_case(customer, agent))
    # A later survey waiting in the outbox (quiet hours), opted out of from the first link.
    Survey.objects.filter(pk=first.pk).update(created_at=WORKING_MORNING - timedelta(days=60))
    with time_machine.travel(WORKING_MORNING + timedelta(hours=12), tick=False):  # 22:00
        second = Survey.objects.get(case=resolved_case(customer, agent))
        assert second.invitation.status == OutboxStatus.PENDING
        page = Client().post(f"{_url(first)}opt-out/")
    assert page.status_code == 200
    assert SurveyOptOut.objects.filter(customer=customer).exists()
    second.invitation.refresh_from_db()
    assert second.invitation.status == OutboxStatus.DEAD


@pytest.mark.postgresql
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs DATABASE_URL (PostgreSQL)")
@pytest.mark.django_db(transaction=True)
def test_two_answers_at_the_same_instant_store_one(migrated_data, customer, agent):
    with time_machine.travel(WORKING_MORNING, tick=False):
        survey = Survey.objects.get(case=resolved_case(customer, agent))
    token = survey_link_token(survey)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def answer(score: int) -> None:
        try:
            barrier.wait()
            survey_answer(token=token, given={"csat": score})
            outcomes.append("stored")
        except (SurveyAnswered, SurveyLinkInvalid):
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=answer, args=(s,)) for s in (2, 5)]
    # One clock for both threads, set and put back by this one: time-machine's travel is the
    # whole process's, and travels entered and left on two threads at once would tangle it.
    with time_machine.travel(WORKING_MORNING + timedelta(hours=1), tick=False):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(outcomes) == ["refused", "stored"]
    assert SurveyResponse.objects.filter(survey=survey).count() == 1
