"""Social mentions: the generic signed webhook, and replies that are not posted on their own."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from bankdesk.customers.models import Customer
from bankdesk.intake.channels.sms.webhook import signature_for
from bankdesk.intake.choices import OutboxStatus
from bankdesk.intake.models import ChannelEndpoint
from bankdesk.intake.outbox import outbox_deliver
from bankdesk.intake.services import case_reply
from bankdesk.intake.tests.test_sms_provider import API_KEY, FakeProvider
from bankdesk.tickets.models import Case, Message

pytestmark = pytest.mark.django_db

SECRET = "social-secret"
URL = "/intake/social/listening/"


@pytest.fixture
def endpoint() -> ChannelEndpoint:
    return ChannelEndpoint.objects.create(
        code="listening",
        channel="social",
        name="舆情监测",
        secrets=json.dumps({"webhook_secret": SECRET, "api_key": API_KEY}),
    )


def _mention(**changes: Any) -> dict[str, Any]:
    return {
        "id": "4987654321",
        "platform": "weibo",
        "author_handle": "xiaoli_88",
        "author_name": "小李",
        "text": "@某某银行 信用卡年费为什么扣了两次？",
        "url": "https://weibo.com/xiaoli_88/4987654321",
        "created_at": "2026-10-01T09:00:00+08:00",
    } | changes


def _post(body: dict[str, Any] | bytes, secret: str = SECRET):
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    return Client().post(
        URL,
        data=raw,
        content_type="application/json",
        headers={"X-Bankdesk-Signature": signature_for(secret, raw)},
    )


def test_a_mention_opens_a_case_with_a_link_to_the_post_and_no_customer(endpoint):
    response = _post(_mention())

    assert response.status_code == 200 and response.json()["outcome"] == "new_case"
    message = Message.objects.get()
    assert message.channel == "social" and message.external_id == "weibo:4987654321"
    assert "https://weibo.com/xiaoli_88/4987654321" in message.text
    assert "小李 (@xiaoli_88)" in message.text
    assert message.case.customer is None and Customer.objects.count() == 0
    assert message.conversation.external_thread_id == "weibo:xiaoli_88"


def test_the_authors_next_mention_continues_the_case_and_a_retry_is_a_duplicate(endpoint):
    _post(_mention())
    assert _post(_mention()).json()["outcome"] == "duplicate"
    assert _post(_mention(id="4987654322", text="还没人理")).json()["outcome"] == "added"
    assert Case.objects.count() == 1 and Message.objects.count() == 2


def test_a_bad_signature_keeps_nothing(endpoint):
    assert _post(_mention(), secret="wrong").status_code == 403
    assert Message.objects.count() == 0


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"platform": "Weibo!"}, "platform"),
        ({"platform": ""}, "platform"),
        ({"id": ""}, "id"),
        ({"author_handle": None}, "author_handle"),
        ({"text": ""}, "text"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"created_at": "2026-13-01"}, "created_at"),
    ],
)
def test_malformed_mentions_are_refused_naming_the_field(endpoint, changes, field):
    response = _post(_mention(**changes))

    assert response.status_code == 400 and response.json()["field"] == field
    assert Message.objects.count() == 0


def test_a_reply_is_not_posted_automatically(endpoint, agent):
    _post(_mention())
    _, item = case_reply(case=Case.objects.get(), text="您好，请私信我们", actor=agent)
    assert item.channel == "social" and item.recipient == "weibo:xiaoli_88"

    assert outbox_deliver().dead == 1
    item.refresh_from_db()
    assert item.status == OutboxStatus.DEAD
    assert "reply on the platform" in item.last_error


def test_a_reply_goes_to_a_configured_publishing_service(endpoint, agent):
    _post(_mention())
    with FakeProvider() as provider:
        endpoint.settings = {"api_url": provider.url}
        endpoint.save()
        _, item = case_reply(case=Case.objects.get(), text="您好", actor=agent)

        assert outbox_deliver().sent == 1
    (request,) = provider.requests
    assert request["body"]["to"] == "weibo:xiaoli_88"
    assert request["headers"]["Idempotency-Key"] == item.idempotency_key
