"""Resolving a case plans one follow-up call and queues one survey, however often it is
resolved; quiet hours, the survey period and an opt-out are honoured."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection

from bankdesk.feedback.choices import FollowUpStatus, SkipReason, SurveyStatus
from bankdesk.feedback.models import FollowUp, Survey, SurveyOptOut
from bankdesk.feedback.surveys import survey_reminders_send
from bankdesk.feedback.tests.conftest import WORKING_MORNING, resolved_case
from bankdesk.intake.choices import OutboxStatus
from bankdesk.intake.models import OutboxMessage
from bankdesk.intake.outbox import outbox_deliver
from bankdesk.tickets.choices import CaseStatus
from bankdesk.tickets.models import CaseEvent
from bankdesk.tickets.services import case_status_change

pytestmark = pytest.mark.django_db

SHANGHAI_22H = datetime(2026, 11, 10, 14, 0, tzinfo=UTC)  # 22:00 in Shanghai: quiet
SHANGHAI_9H_NEXT = datetime(2026, 11, 11, 1, 0, tzinfo=UTC)


def _survey_mail(case):
    return [
        item
        for item in OutboxMessage.objects.filter(case=case, message__isnull=True)
        if item.payload_data().get("kind") == "survey"
    ]


def test_resolving_plans_one_follow_up_and_queues_one_survey(
    feedback_data, morning, customer, agent
):
    case = resolved_case(customer, agent)
    follow_up = FollowUp.objects.get(case=case)
    assert follow_up.status == FollowUpStatus.OPEN
    # "Every other resolved case" is due within 24 business hours (three working days of 8h).
    assert follow_up.due_at > WORKING_MORNING + timedelta(days=2)
    survey = Survey.objects.get(case=case)
    assert survey.status == SurveyStatus.SCHEDULED
    assert survey.sent_by == "email"
    [mail] = _survey_mail(case)
    assert mail.recipient == "wang.xm@example.cn"
    assert "/survey/" in mail.payload_data()["text"]

    # Reopened and resolved again: still one follow-up, one survey, one invitation.
    case = case_status_change(case=case, status=CaseStatus.OPEN, actor=agent)
    case = case_status_change(case=case, status=CaseStatus.RESOLVED, actor=agent)
    assert FollowUp.objects.filter(case=case).count() == 1
    assert Survey.objects.filter(case=case).count() == 1
    assert len(_survey_mail(case)) == 1


def test_a_complaint_is_always_followed_up_even_with_no_rule(
    feedback_data, morning, customer, agent, categories
):
    from bankdesk.feedback.models import FollowUpRule

    FollowUpRule.objects.update(is_active=False)
    plain = resolved_case(customer, agent)
    complaint = resolved_case(customer, agent, category=categories["complaint_fees"])
    assert not FollowUp.objects.filter(case=plain).exists()
    assert FollowUp.objects.get(case=complaint).is_complaint


def test_no_invitation_leaves_in_quiet_hours(feedback_data, customer, agent):
    with time_machine.travel(SHANGHAI_22H, tick=False):
        case = resolved_case(customer, agent)
        [mail] = _survey_mail(case)
        assert mail.next_attempt_at == SHANGHAI_9H_NEXT
        assert outbox_deliver().sent == 0
    # Claimed by a worker at night anyway (a clock that says it is due): held, not counted.
    OutboxMessage.objects.filter(pk=mail.pk).update(next_attempt_at=SHANGHAI_22H)
    with time_machine.travel(SHANGHAI_22H + timedelta(minutes=30), tick=False):
        outbox_deliver(now=SHANGHAI_22H + timedelta(hours=1))
    mail.refresh_from_db()
    assert (mail.status, mail.attempts) == (OutboxStatus.PENDING, 0)
    assert mail.next_attempt_at == SHANGHAI_9H_NEXT


def test_reminder_once_and_never_in_quiet_hours(feedback_data, customer, agent, settings):
    settings.BANKDESK_SURVEY_REMINDER_HOURS = 48
    with time_machine.travel(WORKING_MORNING, tick=False):
        case = resolved_case(customer, agent)
    survey = Survey.objects.get(case=case)
    survey.invitation.status = OutboxStatus.SENT
    survey.invitation.save(update_fields=["status"])
    two_days_at_22h = WORKING_MORNING + timedelta(days=2, hours=12)  # 22:00 Shanghai
    assert survey_reminders_send(now=two_days_at_22h) == 0
    assert survey_reminders_send(now=WORKING_MORNING + timedelta(days=1)) == 0  # too early
    assert survey_reminders_send(now=WORKING_MORNING + timedelta(days=2, hours=1)) == 1
    assert survey_reminders_send(now=WORKING_MORNING + timedelta(days=3)) == 0  # once
    kinds = [item.payload_data().get("kind") for item in OutboxMessage.objects.filter(case=case)]
    assert sorted(k for k in kinds if k) == ["survey", "survey_reminder"]


def test_an_opted_out_customer_gets_no_survey_and_no_reminder(
    feedback_data, morning, customer, agent
):
    SurveyOptOut.objects.create(customer=customer, source="link")
    case = resolved_case(customer, agent)
    survey = Survey.objects.get(case=case)
    assert (survey.status, survey.skip_reason) == (SurveyStatus.SKIPPED, SkipReason.OPTED_OUT)
    assert _survey_mail(case) == []
    assert FollowUp.objects.filter(case=case).exists()  # the call is another matter


def test_one_survey_per_customer_per_period(feedback_data, customer, agent, settings):
    settings.BANKDESK_SURVEY_PERIOD_DAYS = 30
    with time_machine.travel(WORKING_MORNING, tick=False):
        first = resolved_case(customer, agent)
    with time_machine.travel(WORKING_MORNING + timedelta(days=10), tick=False):
        second = resolved_case(customer, agent)
    with time_machine.travel(WORKING_MORNING + timedelta(days=31), tick=False):
        third = resolved_case(customer, agent)
    statuses = [Survey.objects.get(case=c).status for c in (first, second, third)]
    assert statuses == [SurveyStatus.SCHEDULED, SurveyStatus.SKIPPED, SurveyStatus.SCHEDULED]
    assert Survey.objects.get(case=second).skip_reason == SkipReason.RECENTLY_SURVEYED


def test_a_customer_with_no_linkable_channel_is_asked_on_the_call(feedback_data, morning, agent):
    from bankdesk.customers.services import IdentityInput, customer_create

    phone_only = customer_create(
        customer_number="6200009999",
        name="李四",
        identities=[IdentityInput(kind="national_id", value="11010519491231002X")],
    )
    case = resolved_case(phone_only, agent, channel="phone")
    assert Survey.objects.get(case=case).status == SurveyStatus.BY_CALL
    assert OutboxMessage.objects.filter(case=case).count() == 0


def test_history_loaded_after_the_fact_is_not_followed_up(feedback_data, morning, customer):
    from bankdesk.tickets.services import case_create

    case = case_create(subject="旧投诉", channel="email", actor=None, customer=customer)
    case = case_status_change(case=case, status=CaseStatus.OPEN, actor=None)
    case_status_change(case=case, status=CaseStatus.RESOLVED, actor=None, history=True)
    assert not FollowUp.objects.filter(case=case).exists()
    assert not Survey.objects.filter(case=case).exists()
    assert not CaseEvent.objects.filter(case=case, kind="follow_up").exists()


@pytest.mark.postgresql
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs DATABASE_URL (PostgreSQL)")
@pytest.mark.django_db(transaction=True)
def test_two_resolutions_at_once_plan_one_follow_up_and_one_survey(migrated_data, customer, agent):
    from bankdesk.tickets.errors import InvalidTransition
    from bankdesk.tickets.services import case_create

    with time_machine.travel(WORKING_MORNING, tick=False):
        case = case_create(subject="转账未到账", channel="email", actor=agent, customer=customer)
        case = case_status_change(case=case, status=CaseStatus.OPEN, actor=agent)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def resolve() -> None:
        try:
            barrier.wait()
            case_status_change(case=case, status=CaseStatus.RESOLVED, actor=agent)
            outcomes.append("resolved")
        except InvalidTransition:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=resolve) for _ in range(2)]
    # One clock for both threads, set and put back by this one: time-machine's travel is the
    # whole process's, and travels entered and left on two threads at once would tangle it.
    with time_machine.travel(WORKING_MORNING + timedelta(hours=1), tick=False):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(outcomes) == ["refused", "resolved"]
    assert FollowUp.objects.filter(case=case).count() == 1
    assert Survey.objects.filter(case=case).count() == 1
    assert len(_survey_mail(case)) == 1


def test_a_chat_is_rated_in_the_chat_and_only_for_its_own_case(feedback_data, morning, agent):
    from bankdesk.feedback.surveys import survey_link_token, survey_rate_in_chat
    from bankdesk.intake.channels.base import InboundMessage
    from bankdesk.intake.services import inbound_receive

    cases = []
    for session in ("chat-one", "chat-two"):
        case = inbound_receive(
            InboundMessage(channel="web_chat", external_id=session, text="你好", thread_id=session)
        ).case
        case = case_status_change(case=case, status=CaseStatus.OPEN, actor=agent)
        cases.append(case_status_change(case=case, status=CaseStatus.RESOLVED, actor=agent))
    one, two = (Survey.objects.get(case=case) for case in cases)
    # A guest in a chat is asked there, at once (no quiet hours for a conversation under way).
    assert (one.status, one.sent_by, one.send_at) == ("scheduled", "web_chat", WORKING_MORNING)
    [offer] = list(OutboxMessage.objects.filter(case=cases[0]))
    assert offer.payload_data()["survey"]["token"] == survey_link_token(one)
    assert survey_rate_in_chat(case_id=cases[1].pk, token=survey_link_token(one), score=5) == (
        "forged"
    )
    assert survey_rate_in_chat(case_id=cases[0].pk, token=survey_link_token(one), score=9) == (
        "invalid"
    )
    assert survey_rate_in_chat(case_id=cases[0].pk, token=survey_link_token(one), score=4) == (
        "stored"
    )
    assert survey_rate_in_chat(case_id=cases[0].pk, token=survey_link_token(one), score=1) == (
        "used"
    )
    assert two.status == "scheduled"
    # A chat's rating is reminded by another channel: a guest has none, so none is sent.
    two.invitation.status = OutboxStatus.SENT
    two.invitation.save(update_fields=["status"])
    assert survey_reminders_send(now=WORKING_MORNING + timedelta(days=3)) == 0
