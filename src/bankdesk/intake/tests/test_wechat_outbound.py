"""Staff replies to WeChat customers through the outbox, against a fake WeChat API on loopback."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings

from bankdesk.intake.channels.wechat.protocol import signature_of
from bankdesk.intake.choices import OutboxStatus
from bankdesk.intake.models import ChannelEndpoint, OutboxMessage
from bankdesk.intake.outbox import outbox_deliver
from bankdesk.intake.services import case_reply
from bankdesk.staff.models import User
from bankdesk.tickets.models import Case

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures" / "wechat"
TOKEN = "bank-wechat-server-token"
OPENID = "oX7kP0ZbQ1-wRc3dYt5uV8nM2sLa"
APP_ID = "wx1234567890abcdef"
APP_SECRET = "the-app-secret"


class FakeWeChat:
    """WeChat's token and customer-service APIs, as far as bankdesk uses them.

    Each token fetch issues a new token and revokes the previous one; `answers` queues the
    errcodes the next sends get (after the token check), then every send succeeds.
    """

    def __init__(self) -> None:
        self.valid_token: str | None = None
        self.tokens_issued = 0
        self.answers: list[dict[str, Any]] = []
        self.delivered: list[dict[str, Any]] = []
        self.sends = 0
        self.lock = threading.Lock()

    def token(self, query: dict[str, list[str]]) -> dict[str, Any]:
        if query.get("appid") != [APP_ID] or query.get("secret") != [APP_SECRET]:
            return {"errcode": 40125, "errmsg": "invalid appsecret"}
        self.tokens_issued += 1
        self.valid_token = f"ACCESS-TOKEN-{self.tokens_issued}"
        return {"access_token": self.valid_token, "expires_in": 7200}

    def send(self, query: dict[str, list[str]], body: dict[str, Any]) -> dict[str, Any]:
        self.sends += 1
        if query.get("access_token") != [self.valid_token]:
            return {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"}
        if self.answers:
            return self.answers.pop(0)
        self.delivered.append(body)
        return {"errcode": 0, "errmsg": "ok", "msgid": 9000 + len(self.delivered)}

    def revoke(self) -> None:
        self.valid_token = None


@pytest.fixture
def fake_wechat(settings: Settings) -> Iterator[FakeWeChat]:
    fake = FakeWeChat()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, answer: dict[str, Any]) -> None:
            raw = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            with fake.lock:
                if url.path == "/cgi-bin/token":
                    self._answer(fake.token(parse_qs(url.query)))
                else:
                    self.send_error(404)

        def do_POST(self) -> None:
            url = urlsplit(self.path)
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with fake.lock:
                if url.path == "/cgi-bin/message/custom/send":
                    self._answer(fake.send(parse_qs(url.query), body))
                else:
                    self.send_error(404)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    settings.BANKDESK_WECHAT_API_BASE = f"http://127.0.0.1:{server.server_address[1]}"
    cache.clear()  # no access token from another test
    yield fake
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def endpoint() -> ChannelEndpoint:
    return ChannelEndpoint.objects.create(
        code="bank-wechat",
        channel="wechat",
        name="银行微信公众号",
        settings={"app_id": APP_ID, "original_id": "gh_3f1a2b4c5d6e"},
        secrets=json.dumps({"token": TOKEN, "app_secret": APP_SECRET}),
    )


@pytest.fixture
def wechat_case(endpoint: ChannelEndpoint) -> Case:
    """A case opened by a customer's WeChat message, as the webhook opens it."""
    stamp, nonce = str(int(time.time())), "1234"
    query = urlencode(
        {"signature": signature_of(TOKEN, stamp, nonce), "timestamp": stamp, "nonce": nonce}
    )
    body = (FIXTURES / "text.xml").read_bytes()
    response = Client().post(f"/intake/wechat/?{query}", data=body, content_type="text/xml")
    assert response.status_code == 200
    return Case.objects.get()


def reply(case: Case, agent: User, text: str) -> OutboxMessage:
    _, item = case_reply(case=case, text=text, actor=agent)
    assert item is not None
    return item


def test_a_reply_reaches_the_customer_as_a_customer_service_message(
    fake_wechat: FakeWeChat, wechat_case: Case, agent: User
) -> None:
    item = reply(wechat_case, agent, "您好，年费已为您申请减免。")
    assert item.channel == "wechat"
    assert item.recipient == OPENID

    report = outbox_deliver()

    assert report.sent == 1
    assert fake_wechat.delivered == [
        {"touser": OPENID, "msgtype": "text", "text": {"content": "您好，年费已为您申请减免。"}}
    ]
    item.refresh_from_db()
    assert item.status == OutboxStatus.SENT
    assert item.provider_message_id == "9001"


def test_the_access_token_is_fetched_once_and_reused(
    fake_wechat: FakeWeChat, wechat_case: Case, agent: User
) -> None:
    reply(wechat_case, agent, "第一条")
    reply(wechat_case, agent, "第二条")

    assert outbox_deliver().sent == 2
    assert fake_wechat.tokens_issued == 1
    assert len(fake_wechat.delivered) == 2


def test_an_expired_access_token_is_refreshed_and_the_message_sent_once(
    fake_wechat: FakeWeChat, wechat_case: Case, agent: User
) -> None:
    reply(wechat_case, agent, "第一条")
    outbox_deliver()
    fake_wechat.revoke()  # WeChat expires the cached token early: the next send gets 40001
    item = reply(wechat_case, agent, "第二条")

    report = outbox_deliver()

    assert report.sent == 1
    assert fake_wechat.tokens_issued == 2
    assert [sent["text"]["content"] for sent in fake_wechat.delivered] == ["第一条", "第二条"]
    item.refresh_from_db()
    assert item.status == OutboxStatus.SENT
    assert item.attempts == 1


def test_a_busy_wechat_is_retried_after_a_backoff(
    fake_wechat: FakeWeChat, wechat_case: Case, agent: User
) -> None:
    fake_wechat.answers = [{"errcode": -1, "errmsg": "system error"}]
    item = reply(wechat_case, agent, "稍后重试的回复")
    before = timezone.now()

    first = outbox_deliver()

    assert (first.sent, first.retrying, first.dead) == (0, 1, 0)
    item.refresh_from_db()
    assert item.status == OutboxStatus.PENDING
    assert "-1" in item.last_error
    assert item.next_attempt_at >= before + timedelta(seconds=7)  # first backoff, with jitter
    assert outbox_deliver().sent == 0  # not due yet
    assert fake_wechat.delivered == []

    second = outbox_deliver(now=item.next_attempt_at + timedelta(seconds=1))

    assert second.sent == 1
    item.refresh_from_db()
    assert item.status == OutboxStatus.SENT
    assert item.attempts == 2
    assert len(fake_wechat.delivered) == 1


def test_a_rate_limited_send_is_retried(
    fake_wechat: FakeWeChat, wechat_case: Case, agent: User
) -> None:
    fake_wechat.answers = [{"errcode": 45047, "errmsg": "out of response count limit"}]
    reply(wechat_case, agent, "限流")

    assert outbox_deliver().retrying == 1


@pytest.mark.parametrize(
    "answer",
    [
        {"errcode": 40003, "errmsg": "invalid openid"},
        {"errcode": 45015, "errmsg": "response out of time limit"},
    ],
)
def test_a_definite_refusal_is_not_retried(
    fake_wechat: FakeWeChat, wechat_case: Case, agent: User, answer: dict[str, Any]
) -> None:
    fake_wechat.answers = [answer]
    item = reply(wechat_case, agent, "无法送达")

    assert outbox_deliver().dead == 1
    item.refresh_from_db()
    assert item.status == OutboxStatus.DEAD
    assert str(answer["errcode"]) in item.last_error


def test_wrong_app_credentials_fail_permanently(
    fake_wechat: FakeWeChat, wechat_case: Case, agent: User, endpoint: ChannelEndpoint
) -> None:
    endpoint.secrets = json.dumps({"token": TOKEN, "app_secret": "wrong"})
    endpoint.save()
    reply(wechat_case, agent, "密钥错误")

    assert outbox_deliver().dead == 1
    assert fake_wechat.sends == 0


def test_an_unreachable_wechat_is_retried(
    settings: Settings, wechat_case: Case, agent: User
) -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.BANKDESK_WECHAT_API_BASE = f"http://127.0.0.1:{port}"
    cache.clear()
    item = reply(wechat_case, agent, "网络故障")

    assert outbox_deliver().retrying == 1
    item.refresh_from_db()
    assert "could not be reached" in item.last_error


def test_the_endpoints_own_api_base_wins_over_the_setting(
    fake_wechat: FakeWeChat, settings: Settings, wechat_case: Case, agent: User
) -> None:
    endpoint = ChannelEndpoint.objects.get(code="bank-wechat")
    endpoint.settings["api_base"] = settings.BANKDESK_WECHAT_API_BASE + "/"
    endpoint.save()
    settings.BANKDESK_WECHAT_API_BASE = "http://127.0.0.1:9"  # discard port: would fail
    reply(wechat_case, agent, "走端点配置")

    assert outbox_deliver().sent == 1
