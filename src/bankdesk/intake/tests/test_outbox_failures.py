"""A reply that cannot be sent: every failed attempt counts, whatever ended it; it is retried
with backoff, given up at the limit with the case showing it, and never holds up the replies
behind it. Against the fake SMS provider on loopback."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from bankdesk.conftest import ApiClient
from bankdesk.intake.choices import OutboxStatus
from bankdesk.intake.models import OutboxMessage
from bankdesk.intake.outbox import MAX_ATTEMPTS, outbox_claim, outbox_deliver
from bankdesk.intake.services import case_reply
from bankdesk.intake.tests.test_sms_provider import FakeProvider, sms_case, sms_endpoint
from bankdesk.staff.models import Team, User
from bankdesk.tickets.models import CaseEvent
from bankdesk.tickets.services import case_assign

pytestmark = pytest.mark.django_db

POISONED_PHONE = "+8613900000010"


@pytest.fixture
def provider() -> Iterator[FakeProvider]:
    with FakeProvider() as fake:
        yield fake


def _later(days: int) -> datetime:
    return timezone.now() + timedelta(days=days)


def _requests_to(provider: FakeProvider, phone: str) -> int:
    return sum(1 for request in provider.requests if request["body"]["to"] == phone)


def test_an_unexpected_error_in_one_send_is_retried_then_dead_lettered_on_the_case(
    provider: FakeProvider,
    agent: User,
    supervisor: User,
    api_for: Callable[[User], ApiClient],
) -> None:
    sms_endpoint(provider.url)
    poisoned_case = sms_case(POISONED_PHONE[3:])
    other_cases = [sms_case(f"1390000001{n}") for n in (1, 2)]
    provider.garbled = {POISONED_PHONE}  # http.client cannot read its answers: BadStatusLine
    _, poisoned = case_reply(case=poisoned_case, text="您的账单已核对。", actor=agent)
    others = [case_reply(case=case, text="您好", actor=agent)[1] for case in other_cases]
    assert poisoned is not None and poisoned.pk < min(item.pk for item in others if item)

    first = outbox_deliver()

    assert first.sent == 2 and first.retrying == 1 and first.dead == 0
    assert not OutboxMessage.objects.filter(status=OutboxStatus.SENDING).exists()
    poisoned.refresh_from_db()
    assert poisoned.status == OutboxStatus.PENDING and poisoned.attempts == 1
    assert "BadStatusLine" in poisoned.last_error
    assert poisoned.next_attempt_at > timezone.now() + timedelta(seconds=5)  # backed off

    for day in range(1, MAX_ATTEMPTS):
        outbox_deliver(now=_later(day))

    poisoned.refresh_from_db()
    assert poisoned.status == OutboxStatus.DEAD and poisoned.attempts == MAX_ATTEMPTS
    assert outbox_deliver(now=_later(MAX_ATTEMPTS + 1)).dead == 0  # given up: never tried again
    assert _requests_to(provider, POISONED_PHONE) == MAX_ATTEMPTS
    api = api_for(supervisor)
    events = api.get(f"/cases/{poisoned_case.pk}/events").json_body
    failed = [event for event in events if event["kind"] == "delivery_failed"]
    assert len(failed) == 1
    assert failed[0]["data"]["message_id"] == poisoned.message_id
    assert failed[0]["data"]["attempts"] == MAX_ATTEMPTS
    assert "BadStatusLine" in failed[0]["data"]["reason"]
    messages = api.get(f"/cases/{poisoned_case.pk}/messages").json_body
    assert [m["delivery_status"] for m in messages if m["direction"] == "outbound"] == ["failed"]
    for case in other_cases:
        messages = api.get(f"/cases/{case.pk}/messages").json_body
        assert [m["delivery_status"] for m in messages if m["direction"] == "outbound"] == ["sent"]
    assert not CaseEvent.objects.filter(case__in=other_cases, kind="delivery_failed").exists()


def test_a_message_whose_worker_never_came_back_is_dead_lettered_at_the_limit(
    provider: FakeProvider, agent: User
) -> None:
    # Each attempt so far ended with the worker gone (killed, out of memory) before it could
    # record anything: the claim counted them, and the next claim gives up instead of sending.
    sms_endpoint(provider.url)
    case = sms_case("13900000020")
    _, item = case_reply(case=case, text="您好", actor=agent)
    assert item is not None
    OutboxMessage.objects.filter(pk=item.pk).update(
        status=OutboxStatus.SENDING, attempts=MAX_ATTEMPTS, next_attempt_at=timezone.now()
    )

    assert outbox_claim(now=_later(1)) is None

    item.refresh_from_db()
    assert item.status == OutboxStatus.DEAD and provider.raw_requests == 0
    event = CaseEvent.objects.get(case=case, kind="delivery_failed")
    assert "did not finish" in event.data["reason"]


def test_a_supervisor_sends_a_given_up_reply_again_and_the_case_shows_who(
    provider: FakeProvider,
    general_team: Team,
    agent: User,
    supervisor: User,
    api_for: Callable[[User], ApiClient],
) -> None:
    sms_endpoint(provider.url)
    case = case_assign(case=sms_case("13900000030"), team=general_team, assignee=agent, actor=None)
    message, item = case_reply(case=case, text="您好", actor=agent)
    assert item is not None
    provider.script = [400]  # refused for good: given up at once
    assert outbox_deliver().dead == 1
    url = f"/cases/{case.pk}/messages/{message.pk}/delivery/retry"

    refused = api_for(agent).post(url)
    retried = api_for(supervisor).post(url)
    again = api_for(supervisor).post(url)
    report = outbox_deliver()

    assert refused.status_code == 403
    assert retried.status_code == 200 and retried.json_body["status"] == "pending"
    assert again.status_code == 409 and again.json_body["code"] == "delivery_not_given_up"
    item.refresh_from_db()
    assert report.sent == 1 and item.status == OutboxStatus.SENT and item.attempts == 1
    keys = [request["headers"]["Idempotency-Key"] for request in provider.requests]
    assert keys == [item.idempotency_key, item.idempotency_key]
    kinds = [e.kind for e in CaseEvent.objects.filter(case=case, kind__startswith="delivery_")]
    assert kinds == ["delivery_failed", "delivery_retried"]
    assert CaseEvent.objects.get(case=case, kind="delivery_retried").actor == supervisor
    messages = api_for(supervisor).get(f"/cases/{case.pk}/messages").json_body
    assert [m["delivery_status"] for m in messages if m["direction"] == "outbound"] == ["sent"]
