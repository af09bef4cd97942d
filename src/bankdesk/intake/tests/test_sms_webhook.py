"""Inbound SMS: the signed webhook, and that bad input is refused with nothing kept."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from bankdesk.customers.models import Customer
from bankdesk.intake.channels.sms.webhook import signature_for
from bankdesk.intake.models import ChannelEndpoint
from bankdesk.tickets.models import Case, Conversation, Message

pytestmark = pytest.mark.django_db

SECRET = "whsec-test"
URL = "/intake/sms/sms-main/"


@pytest.fixture
def endpoint() -> ChannelEndpoint:
    return ChannelEndpoint.objects.create(
        code="sms-main",
        channel="sms",
        name="短信平台",
        secrets=json.dumps({"webhook_secret": SECRET, "api_key": "k"}),
    )


def _post(body: bytes | dict[str, Any], *, secret: str = SECRET, url: str = URL, **headers: str):
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    headers.setdefault("X-Bankdesk-Signature", signature_for(secret, raw))
    return Client().post(url, data=raw, content_type="application/json", headers=headers)


def _sms(**changes: Any) -> dict[str, Any]:
    return {
        "message_id": "SM0001",
        "from": "+86 138 1234 5678",
        "to": "95588",
        "text": "我的信用卡被冻结了",
        "received_at": "2026-10-01T09:00:00+08:00",
    } | changes


def _nothing_kept(customers_before: int) -> None:
    assert Message.objects.count() == 0 and Case.objects.count() == 0
    assert Customer.objects.count() == customers_before


def test_a_signed_text_opens_a_case_for_the_customer_behind_the_number(endpoint, customer):
    response = _post(_sms())

    assert response.status_code == 200
    assert response.json()["outcome"] == "new_case"
    message = Message.objects.get()
    assert message.channel == "sms" and message.external_id == "SM0001"
    assert message.text == "我的信用卡被冻结了"
    assert message.case.customer == customer
    assert message.case.number == response.json()["case_number"]
    # The phone is the thread, kept as the blind index its identity is found by.
    assert (
        Conversation.objects.get().external_thread_id
        == "bi1:" + customer.identities.get(kind="phone").lookup
    )


def test_the_providers_retry_is_answered_as_a_duplicate(endpoint):
    _post(_sms())
    again = _post(_sms())

    assert again.status_code == 200 and again.json()["outcome"] == "duplicate"
    assert Message.objects.count() == 1


def test_the_next_text_from_the_number_continues_its_case(endpoint):
    _post(_sms())
    response = _post(_sms(message_id="SM0002", text="还没解冻"))

    assert response.json()["outcome"] == "added"
    assert Case.objects.count() == 1 and Message.objects.count() == 2


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Bankdesk-Signature": "sha256=" + "0" * 64},
        {"X-Bankdesk-Signature": ""},
        {"X-Bankdesk-Signature": "md5=abc"},
    ],
)
def test_a_bad_signature_is_refused_and_nothing_is_kept(endpoint, headers):
    customers = Customer.objects.count()
    response = _post(_sms(), **headers)

    assert response.status_code == 403
    assert response.json() == {
        "code": "bad_signature",
        "message": "the X-Bankdesk-Signature header does not match the body",
        "field": None,
    }
    _nothing_kept(customers)


def test_a_body_signed_with_another_secret_is_refused(endpoint):
    assert _post(_sms(), secret="someone-else").status_code == 403
    _nothing_kept(0)


def test_an_endpoint_without_a_webhook_secret_accepts_nothing(endpoint):
    endpoint.secrets = json.dumps({"api_key": "k"})
    endpoint.save()

    response = _post(_sms())
    assert response.status_code == 403 and response.json()["code"] == "bad_signature"
    _nothing_kept(0)


def test_an_unknown_or_switched_off_endpoint_is_not_found(endpoint):
    assert _post(_sms(), url="/intake/sms/nobody/").status_code == 404
    endpoint.is_active = False
    endpoint.save()
    response = _post(_sms())
    assert response.status_code == 404 and response.json()["code"] == "channel_endpoint_not_found"
    _nothing_kept(0)


def test_an_endpoint_of_another_channel_does_not_take_texts(endpoint):
    endpoint.channel = "social"
    endpoint.save()
    assert _post(_sms()).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"not json", None),
        (b"[1, 2]", None),
        (_sms(message_id=""), "message_id"),
        (_sms(message_id="x" * 256), "message_id"),
        (_sms(text=""), "text"),
        (_sms(text="   "), "text"),
        (_sms(text=None), "text"),
        (_sms(text="a\x00b"), "text"),
        (_sms(text="x" * 5001), "text"),
        (_sms(**{"from": "not a phone"}), "from"),
        (_sms(**{"from": 13812345678.5}), "from"),
        (_sms(to=None), "to"),
        (_sms(received_at="yesterday"), "received_at"),
        (_sms(received_at="2026-10-01T09:00:00"), "received_at"),
        (_sms(received_at="0001-01-01T00:00:00+01:00"), "received_at"),
        (_sms(received_at="9999-12-31T23:59:59-01:00"), "received_at"),
    ],
)
def test_malformed_input_is_refused_naming_the_field_and_nothing_is_kept(endpoint, body, field):
    response = _post(body)

    assert response.status_code == 400
    assert response.json()["code"] == "malformed_payload"
    assert response.json()["field"] == field
    _nothing_kept(0)


@pytest.mark.parametrize(
    "body",
    [b"[" * 100_000, b'{"text":' * 30_000, b'{"message_id": [' + b"[" * 5_000 + b"]}"],
    ids=["arrays", "objects", "inside-a-field"],
)
def test_deeply_nested_json_in_a_signed_body_is_refused_and_the_webhook_keeps_serving(
    endpoint, body
):
    response = _post(body)

    assert response.status_code == 400
    assert response.json()["code"] == "malformed_payload"
    _nothing_kept(0)
    assert _post(_sms()).status_code == 200


def test_only_post_is_accepted(endpoint):
    assert Client().get(URL).status_code == 405
