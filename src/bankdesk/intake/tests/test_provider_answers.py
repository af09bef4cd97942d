"""A provider's answer is outside input too: a garbled one ends the attempt, never the worker.

Each channel that sends through a provider's API (SMS, Alipay's gateway, WeChat's API) gets an
answer from a server on loopback that no parser should trust; the outbox worker must finish its
batch and leave the message sent or waiting for its retry, not stuck mid-delivery.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bankdesk.intake.channels.base import InboundMessage
from bankdesk.intake.choices import OutboxStatus
from bankdesk.intake.models import ChannelEndpoint
from bankdesk.intake.outbox import outbox_deliver
from bankdesk.intake.services import case_reply, inbound_receive
from bankdesk.intake.tests.test_alipay import new_key, private_pem, public_pem
from bankdesk.staff.models import User

pytestmark = pytest.mark.django_db

GARBLED = {
    "nested": b"[" * 50_000,
    "nested-objects": b'{"errcode":' * 20_000,
    "huge-number": b'{"errcode": ' + b"9" * 5_000 + b"}",
    "nan": b'{"errcode": NaN, "id": NaN}',
    "not-utf-8": b'{"id": "\xff\xfe"}',
}


class GarbledProvider:
    """Answers every call 200 with the same bytes."""

    def __init__(self, answer: bytes) -> None:
        provider = self
        self.answer = answer

        class Handler(BaseHTTPRequestHandler):
            def _reply(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(provider.answer)))
                self.end_headers()
                self.wfile.write(provider.answer)

            do_GET = do_POST = _reply

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(params=sorted(GARBLED))
def provider(request: pytest.FixtureRequest) -> Iterator[GarbledProvider]:
    running = GarbledProvider(GARBLED[request.param])
    yield running
    running.stop()


def _endpoint(channel: str, url: str) -> ChannelEndpoint:
    if channel == "sms":
        settings, secrets = {"api_url": f"{url}/messages"}, {"api_key": "k", "webhook_secret": "w"}
    elif channel == "alipay":
        key = new_key()
        settings = {"app_id": "2021004123456789", "gateway": f"{url}/gateway.do"}
        secrets = {"alipay_public_key": public_pem(key), "private_key": private_pem(key)}
    else:
        settings = {"app_id": "wx1", "original_id": "gh_1", "api_base": url}
        secrets = {"token": "t", "app_secret": "s"}
    return ChannelEndpoint.objects.create(
        code=f"{channel}-garbled",
        channel=channel,
        name=channel,
        settings=settings,
        secrets=json.dumps(secrets),
    )


SENDERS = {
    "sms": ("phone", "13912345678"),
    "alipay": ("alipay_user_id", "2088102012345678"),
    "wechat": ("wechat_openid", "oX7kP0ZbQ1-wRc3dYt5uV8nM2sLa"),
}


@pytest.mark.parametrize("channel", sorted(SENDERS))
def test_a_garbled_answer_ends_the_attempt_and_the_worker_goes_on(
    provider: GarbledProvider, channel: str, agent: User
) -> None:
    endpoint = _endpoint(channel, provider.url)
    kind, sender = SENDERS[channel]
    case = inbound_receive(
        InboundMessage(
            channel=channel,
            external_id="in-1",
            text="你好",
            sender_kind=kind,
            sender_value=sender,
            thread_id=sender,
            endpoint_id=endpoint.pk,
        )
    ).case
    assert case is not None
    _, item = case_reply(case=case, text="您好", actor=agent, channel=channel)
    assert item is not None

    outbox_deliver()

    item.refresh_from_db()
    assert item.status in {OutboxStatus.SENT, OutboxStatus.PENDING}, item.last_error
