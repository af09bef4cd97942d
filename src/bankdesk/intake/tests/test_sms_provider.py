"""The SMS adapter against a local fake provider: the outbound contract, retries, failures.

`FakeProvider` is an idempotent provider on loopback, shared with the outbox fault test: it
delivers a message once per idempotency key, and answers a retry of a key it already took with
the same id without delivering again, as a real idempotent provider does.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.utils import timezone

from bankdesk.customers.services import IdentityInput, customer_create
from bankdesk.intake.choices import OutboxStatus
from bankdesk.intake.models import ChannelEndpoint, OutboxMessage
from bankdesk.intake.outbox import outbox_deliver
from bankdesk.intake.services import case_reply
from bankdesk.tickets.services import case_create

API_KEY = "sk-test-provider"


class FakeProvider:
    """An SMS provider on a free loopback port. `script` holds statuses to answer first;
    messages to a number in `garbled` are answered with a status line HTTP cannot read."""

    def __init__(self, *, delay: float = 0.0) -> None:
        self.delay = delay
        self.script: list[int] = []
        self.garbled: set[str] = set()
        self.lock = threading.Lock()
        self.raw_requests = 0
        self.accepted: dict[str, str] = {}  # idempotency key → provider id
        self.deliveries: Counter[str] = Counter()  # deliveries per key: must stay at one
        self.requests: list[dict[str, Any]] = []
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status, answer = provider.handle(dict(self.headers), body)
                if json.loads(body).get("to") in provider.garbled:
                    self.wfile.write(b"HTTP/1.1 OK-ish\r\n\r\n")
                    return
                time.sleep(provider.delay)
                payload = json.dumps(answer).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the worker was killed while waiting: the message is taken anyway

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/messages"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def handle(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        """Take the message at once (before any delay), as a provider commits on receipt."""
        with self.lock:
            self.raw_requests += 1
            key = headers.get("Idempotency-Key", "")
            self.requests.append({"headers": headers, "body": json.loads(body)})
            if self.script:
                status = self.script.pop(0)
                if status >= 300:
                    return status, {"error": "scripted"}
            if headers.get("Authorization") != f"Bearer {API_KEY}":
                return 401, {"error": "bad key"}
            if not key:
                return 400, {"error": "no idempotency key"}
            if key not in self.accepted:
                self.accepted[key] = f"sms-{len(self.accepted) + 1}"
                self.deliveries[key] += 1
            return 200, {"id": self.accepted[key]}

    def __enter__(self) -> FakeProvider:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def provider() -> Iterator[FakeProvider]:
    with FakeProvider() as fake:
        yield fake


def sms_endpoint(url: str, code: str = "sms-main") -> ChannelEndpoint:
    return ChannelEndpoint.objects.create(
        code=code,
        channel="sms",
        name="短信平台",
        settings={"api_url": url},
        secrets=json.dumps({"api_key": API_KEY, "webhook_secret": "whsec-test"}),
    )


def sms_case(number: str, **customer: Any):
    person = customer_create(
        customer_number=f"62{number[-8:]}",
        name="客户",
        identities=[IdentityInput(kind="phone", value=number)],
        **customer,
    )
    return case_create(
        subject="短信咨询", channel="sms", actor=None, customer=person, text="余额多少"
    )


@pytest.mark.django_db
def test_a_reply_is_sent_with_the_key_the_token_and_the_case_number(provider, agent):
    sms_endpoint(provider.url)
    case = sms_case("13900000001")
    _, item = case_reply(case=case, text="您好，余额已短信发送", actor=agent)

    report = outbox_deliver()

    assert report.sent == 1
    item.refresh_from_db()
    assert item.status == OutboxStatus.SENT and item.provider_message_id == "sms-1"
    (request,) = provider.requests
    assert request["headers"]["Idempotency-Key"] == item.idempotency_key
    assert request["body"] == {
        "to": "+8613900000001",
        "text": "您好，余额已短信发送",
        "reference": case.number,
    }


@pytest.mark.django_db
def test_a_busy_provider_is_retried_with_backoff_and_the_same_key(provider, agent):
    sms_endpoint(provider.url)
    _, item = case_reply(case=sms_case("13900000002"), text="稍后回复", actor=agent)
    provider.script = [503, 429]

    first = outbox_deliver()
    item.refresh_from_db()
    assert first.retrying == 1 and item.status == OutboxStatus.PENDING
    assert item.next_attempt_at > timezone.now() + timedelta(seconds=5)  # backed off
    assert "503" in item.last_error
    assert outbox_deliver().sent == 0  # not due yet

    outbox_deliver(now=timezone.now() + timedelta(seconds=13))  # past the first backoff only
    item.refresh_from_db()
    assert item.status == OutboxStatus.PENDING and "429" in item.last_error
    later = outbox_deliver(now=timezone.now() + timedelta(minutes=5))

    item.refresh_from_db()
    assert later.sent == 1 and item.status == OutboxStatus.SENT and item.attempts == 3
    keys = {r["headers"]["Idempotency-Key"] for r in provider.requests}
    assert keys == {item.idempotency_key} and provider.raw_requests == 3
    assert provider.deliveries[item.idempotency_key] == 1


@pytest.mark.django_db
def test_a_refused_message_is_given_up_at_once_with_the_reason(provider, agent):
    sms_endpoint(provider.url)
    _, item = case_reply(case=sms_case("13900000003"), text="您好", actor=agent)
    provider.script = [400]

    report = outbox_deliver(now=timezone.now())

    item.refresh_from_db()
    assert report.dead == 1 and item.status == OutboxStatus.DEAD
    assert item.last_error == "the provider answered HTTP 400"
    assert outbox_deliver(now=timezone.now() + timedelta(hours=2)).sent == 0
    assert provider.raw_requests == 1


@pytest.mark.django_db
def test_an_unreachable_provider_is_retried(agent):
    with FakeProvider() as gone:
        url = gone.url
    sms_endpoint(url)  # nothing listens there any more
    _, item = case_reply(case=sms_case("13900000004"), text="您好", actor=agent)

    assert outbox_deliver().retrying == 1
    item.refresh_from_db()
    assert item.status == OutboxStatus.PENDING and "could not be reached" in item.last_error


@pytest.mark.django_db
def test_without_a_provider_url_the_message_is_given_up(agent):
    ChannelEndpoint.objects.create(code="sms-main", channel="sms", name="短信", settings={})
    _, item = case_reply(case=sms_case("13900000005"), text="您好", actor=agent)

    assert outbox_deliver().dead == 1
    item.refresh_from_db()
    assert item.last_error == "no sms provider is configured"


@pytest.mark.django_db
def test_the_reply_goes_to_the_preferred_channel_when_the_customer_is_reachable_there(agent):
    case = sms_case("13900000006", preferred_channel="email")
    OutboxMessage.objects.all().delete()

    # No e-mail address on file: the reply goes back by SMS, where the customer wrote.
    _, item = case_reply(case=case, text="您好", actor=agent)
    assert item.channel == "sms" and item.recipient == "+8613900000006"

    case.customer.identities.create(kind="email", value="li@example.cn")
    _, item = case_reply(case=case, text="邮件回复", actor=agent)
    assert item.channel == "email" and item.recipient == "li@example.cn"
