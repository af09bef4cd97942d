"""The outside review's attack run, replayed against a running bankdesk over loopback.

Each test plays one family of attacks as the testers did — a member of staff reaching past their
scope, a stranger writing into someone else's case, forged and replayed webhooks, hostile input,
a poisoned header in the outbox — over real HTTP, SMTP and WebSockets, and lists what got
through. A finding names the hole; every list must stay empty.
"""

from __future__ import annotations

import json
import time
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from django.test import Client
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from bankdesk.assistant.tests.conftest import (  # the assistant in service, shared
    assistant,  # noqa: F401  (a fixture)
    trained_directory,  # noqa: F401  (a fixture)
)
from bankdesk.conftest import sign_in_with_second_factor
from bankdesk.customers.models import Customer
from bankdesk.customers.services import IdentityInput, customer_create
from bankdesk.intake.channels.email.receiver import SmtpReceiver
from bankdesk.intake.channels.sms.webhook import signature_for
from bankdesk.intake.channels.wechat.protocol import signature_of
from bankdesk.intake.choices import OutboxStatus
from bankdesk.intake.models import ChannelEndpoint, OutboxMessage
from bankdesk.intake.outbox import outbox_deliver
from bankdesk.intake.services import case_reply
from bankdesk.intake.tests.mail_servers import BANK, Sink, send
from bankdesk.intake.tests.test_alipay import new_key, private_pem, public_pem
from bankdesk.staff.choices import Role
from bankdesk.staff.models import User
from bankdesk.staff.services import api_token_create, team_create
from bankdesk.tickets.choices import CaseStatus
from bankdesk.tickets.models import Case, Category, Message
from bankdesk.tickets.services import case_create, case_status_change

pytestmark = pytest.mark.django_db(transaction=True)

SMS_SECRET = "whsec-attack-run"
WECHAT_TOKEN = "bank-wechat-server-token"
OPENID = "oX7kP0ZbQ1-wRc3dYt5uV8nM2sLa"


def api(server: str, user: User) -> httpx.Client:
    token = api_token_create(user=user).secret
    return httpx.Client(
        base_url=f"{server}/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


def refused(response: httpx.Response) -> bool:
    """Turned away cleanly: a 4xx, never a success and never a server error."""
    return 400 <= response.status_code < 500


@pytest.fixture
def victim(categories: dict[str, Category]) -> Case:
    """Another customer's complaint, resolved and waiting for the customer's confirmation."""
    owner = customer_create(
        customer_number="6200009999",
        name="受害客户",
        identities=[IdentityInput(kind="email", value="victim@example.cn")],
    )
    case = case_create(
        subject="年费乱扣投诉",
        channel="email",
        actor=None,
        customer=owner,
        category=categories["complaint_fees"],
        text="我要投诉：年费被乱扣。",
    )
    case = case_status_change(case=case, status=CaseStatus.OPEN, actor=None)
    return case_status_change(case=case, status=CaseStatus.RESOLVED, actor=None)


def _snapshot(case: Case) -> tuple[Any, ...]:
    case.refresh_from_db()
    return (case.status, case.updated_at, case.messages.count(), case.first_response_at)


def test_staff_reach_nothing_outside_their_scope(
    server: str,
    agent: User,
    make_staff: Any,
    admin_user: User,
    customer: Customer,
    assistant: Any,  # noqa: F811  (the fixture imported above)
) -> None:
    findings: list[str] = []
    outsider = make_staff("cards_agent", Role.AGENT, [team_create(code="cards", name="信用卡组")])
    with api(server, agent) as mine, api(server, outsider) as theirs:
        handed = mine.post("/assistant/reply", json={"text": "转人工"}).json()
        case = Case.objects.get(pk=handed["case_id"])
        before = _snapshot(case)
        if theirs.get(f"/cases/{case.pk}").status_code != 404:
            findings.append("an agent of another team reads the case")
        spoken = theirs.post(
            "/assistant/reply",
            json={"text": "把退款打到这个账户", "conversation_id": handed["conversation_id"]},
        )
        if spoken.status_code != 404 or case.number in spoken.text:
            findings.append("the assistant lets an outsider speak on the case (1)")
        # The one way out, and no staff-forged customer messages (3).
        for body in (
            {"text": "已处理"},
            {"text": "客户说的", "direction": "inbound", "external_id": "SM-REAL-0001"},
        ):
            if not refused(mine.post(f"/cases/{case.pk}/messages", json=body)):
                findings.append(f"staff write a message that is not a delivered reply: {body}")
        if _snapshot(case) != before:
            findings.append("a refused request changed the case")
        for path in ("/cases", f"/customers/{customer.pk}/timeline"):
            for cursor in ("MDAwMS0wMS0wMVQwMDowMDowMCswODowMHwx", "eyJ4Ijo" * 50, "%00"):
                answer = mine.get(path, params={"cursor": cursor})
                if answer.status_code >= 500:
                    findings.append(f"a hand-made cursor is a server error on {path} (13)")
    # An administrator making itself auditor: the API only files a request nobody else approved.
    with api(server, admin_user) as admin:
        asked = admin.post(
            "/staff/role-changes",
            json={"user_id": admin_user.pk, "role": Role.AUDITOR, "reason": "审计需要"},
        )
        if asked.status_code == 201:
            approved = admin.post(f"/staff/role-changes/{asked.json()['id']}/approve")
            if not refused(approved):
                findings.append("an administrator approves its own role change (7)")
    # … and the admin screens' user form does not change roles at all.
    browser = sign_in_with_second_factor(Client(), admin_user)
    with httpx.Client(base_url=server, timeout=30) as web:
        web.cookies.set("sessionid", browser.cookies["sessionid"].value)
        page = web.get(f"/admin/staff/user/{admin_user.pk}/change/")
        csrf = web.cookies.get("csrftoken") or ""
        web.post(
            f"/admin/staff/user/{admin_user.pk}/change/",
            data={
                "csrfmiddlewaretoken": csrf,
                "username": admin_user.username,
                "role": Role.AUDITOR,
                "is_superuser": "on",
                "is_active": "on",
            },
            headers={"Referer": f"{server}/admin/"},
        )
        assert page.status_code == 200
    admin_user.refresh_from_db()
    if admin_user.role != Role.ADMIN or admin_user.is_superuser:
        findings.append("the admin user form changed a role (7)")
    assert findings == []


def _mail(sender: str, subject: str, message_id: str) -> bytes:
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = BANK
    mail["Subject"] = subject
    mail["Message-ID"] = message_id
    mail.set_content("请把这笔费用退到我的卡上。")
    return mail.as_bytes()


def test_nobody_writes_into_another_customers_case_by_quoting_it(
    smtp_receiver: SmtpReceiver, victim: Case, customer: Customer
) -> None:
    ChannelEndpoint.objects.create(
        code="mailbox", channel="email", name="客服邮箱", settings={"addresses": [BANK]}
    )
    findings: list[str] = []
    before = _snapshot(victim)
    senders = [
        "M <not-an-address>",  # nobody can name it
        "<a@@b>",
        "Wang <wang.xm@example.cn>",  # a real customer, but not this case's
    ]
    for number, sender in enumerate(senders):
        cases = Case.objects.count()
        code, _ = send(
            smtp_receiver,
            _mail(sender, f"Re: [{victim.number}] 退款", f"<attack-{number}@mail.example>"),
            sender="bounce@mail.example",
        )
        if code != 250:
            findings.append(f"mail from {sender!r} was not taken at all ({code})")
        if _snapshot(victim) != before:
            findings.append(f"mail from {sender!r} reached the quoted complaint (2)")
        if Case.objects.count() != cases + 1:
            findings.append(f"mail from {sender!r} did not open a case of its own")
    assert findings == []


def _wechat_endpoint() -> ChannelEndpoint:
    return ChannelEndpoint.objects.create(
        code="bank-wechat",
        channel="wechat",
        name="银行微信公众号",
        settings={"app_id": "wx1234567890abcdef", "original_id": "gh_3f1a2b4c5d6e"},
        secrets=json.dumps({"token": WECHAT_TOKEN, "app_secret": "app-secret"}),
    )


def _wechat_text(content: str, msg_id: int) -> bytes:
    return (
        "<xml><ToUserName><![CDATA[gh_3f1a2b4c5d6e]]></ToUserName>"
        f"<FromUserName><![CDATA[{OPENID}]]></FromUserName>"
        "<CreateTime>1764380000</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>"
    ).encode()


def test_forged_replayed_and_hostile_webhooks_are_turned_away(server: str) -> None:
    findings: list[str] = []
    _wechat_endpoint()
    ChannelEndpoint.objects.create(
        code="sms-main",
        channel="sms",
        name="短信平台",
        secrets=json.dumps({"webhook_secret": SMS_SECRET, "api_key": "k"}),
    )
    ChannelEndpoint.objects.create(
        code="bank-alipay",
        channel="alipay",
        name="支付宝生活号",
        settings={"app_id": "2021000000000001"},
        secrets=json.dumps(
            {"alipay_public_key": public_pem(new_key()), "private_key": private_pem(new_key())}
        ),
    )
    ChannelEndpoint.objects.create(
        code="bank-web", channel="web_chat", name="网上银行在线客服", settings={"origins": []}
    )
    deep = ("[" * 50_000 + "]" * 50_000).encode()
    with httpx.Client(base_url=server, timeout=30) as web:
        # A captured WeChat signature replayed with another body (11).
        stamp = str(int(time.time()))
        query = urlencode(
            {
                "signature": signature_of(WECHAT_TOKEN, stamp, "7731"),
                "timestamp": stamp,
                "nonce": "7731",
            }
        )
        first = web.post(f"/intake/wechat/bank-wechat/?{query}", content=_wechat_text("你好", 1))
        if first.status_code != 200:
            findings.append(f"WeChat refused a genuine message ({first.status_code})")
        replayed = web.post(
            f"/intake/wechat/bank-wechat/?{query}", content=_wechat_text("我要投诉", 2)
        )
        if replayed.status_code != 403:
            findings.append("a replayed WeChat signature was taken with another body (11)")
        # Nested JSON before Alipay's signature check, and inside a signed SMS body (13).
        if not refused(
            web.post(
                "/intake/alipay/bank-alipay/",
                content=deep,
                headers={"Content-Type": "application/json"},
            )
        ):
            findings.append("deep JSON to Alipay is not a clean refusal (13)")
        signed = {
            "X-Bankdesk-Signature": signature_for(SMS_SECRET, deep),
            "Content-Type": "application/json",
        }
        if not refused(web.post("/intake/sms/sms-main/", content=deep, headers=signed)):
            findings.append("deep JSON in a signed SMS is not a clean refusal (13)")
        forged = {"X-Bankdesk-Signature": "sha256=" + "0" * 64, "Content-Type": "application/json"}
        body = json.dumps({"message_id": "F1", "from": "+8613800000000", "text": "转账"})
        if web.post("/intake/sms/sms-main/", content=body, headers=forged).status_code != 403:
            findings.append("a forged SMS signature was not refused")
    # The web chat: a nested frame is an error frame, and one address cannot open case after
    # case (13).
    socket_url = server.replace("http://", "ws://") + "/ws/chat/"
    with connect(socket_url) as socket:
        socket.send(json.dumps({"type": "hello"}))
        socket.recv(timeout=5)
        socket.send('{"type": "message", "client_id": "c1", "text": ' * 500)
        frame = json.loads(socket.recv(timeout=5))
        if frame.get("code") != "bad_frame":
            findings.append("a nested chat frame was not answered as a bad frame (13)")
    opened = 0
    for number in range(30):
        try:
            with connect(socket_url) as socket:
                socket.send(json.dumps({"type": "hello"}))
                if json.loads(socket.recv(timeout=5))["type"] != "welcome":
                    continue
                socket.send(
                    json.dumps({"type": "message", "client_id": f"m{number}", "text": "你好"})
                )
                socket.recv(timeout=5)
                opened += 1
        except ConnectionClosed:
            continue
    if opened >= 30 or Case.objects.filter(channel="web_chat").count() >= 30:
        findings.append("thirty chats from one address opened thirty cases (13)")
    assert findings == []


def test_a_poisoned_header_neither_blocks_the_outbox_nor_injects_a_header(
    smtp_receiver: SmtpReceiver, relay: Sink, agent: User
) -> None:
    ChannelEndpoint.objects.create(
        code="mailbox", channel="email", name="客服邮箱", settings={"addresses": [BANK]}
    )
    findings: list[str] = []
    folded = (
        "From: Zhao <zhao@example.cn>\r\nTo: " + BANK + "\r\nSubject: =?utf-8?b?"
        "5Y2h54mH6Zeu6aKY?=\r\nMessage-ID: <poison-id\r\n\tBcc: attacker@evil.example>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nmy card\r\n"
    ).encode()
    code, _ = send(smtp_receiver, folded, sender="zhao@example.cn")
    case = Case.objects.get()
    if any("\n" in (m.external_id or "") for m in Message.objects.all()):
        findings.append("a folded Message-ID was stored as it came (12)")
    # A row stored before intake cleaned header values, as an old installation holds it.
    Message.objects.filter(case=case).update(
        external_id="poison-id\r\n\tBcc: attacker@evil.example"
    )
    for number in range(6):
        case_reply(case=case, text=f"第{number}次回复", actor=agent)
    outbox_deliver()
    if OutboxMessage.objects.exclude(status=OutboxStatus.SENT).exists():
        findings.append("replies are stuck behind the poisoned one (12)")
    if any(b"attacker" in raw for _, _, raw in relay.received):
        findings.append("a header was injected into a reply (12)")
    if any(recipients != ["zhao@example.cn"] for _, recipients, _ in relay.received):
        findings.append("a reply went to someone else")
    assert code == 250 and findings == []
