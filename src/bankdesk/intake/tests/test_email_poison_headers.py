"""Header values from outside are stored clean: a customer's mail whose Message-ID, threading
headers, subject or sender name carry folded lines, CR/LF or control characters is taken (nothing
the customer wrote is lost), and every value kept from it is one safe line — so the bank's reply
to it goes out with valid headers and nothing smuggled into them.
"""

from __future__ import annotations

import base64
import re

import pytest

from bankdesk.customers.models import Customer
from bankdesk.intake.channels.email.receiver import SmtpReceiver
from bankdesk.intake.choices import OutboxStatus
from bankdesk.intake.models import ChannelEndpoint, OutboxMessage
from bankdesk.intake.outbox import outbox_deliver
from bankdesk.intake.services import case_reply
from bankdesk.intake.tests.mail_servers import BANK, Sink, send
from bankdesk.staff.models import User
from bankdesk.tickets.models import Conversation, Message

pytestmark = pytest.mark.django_db(transaction=True)

SMUGGLED = "Bcc:spy@attacker.example"
# RFC 5322 msg-id: atext and dots either side of the "@", in angle brackets.
ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+"
MSG_ID = re.compile(rf"<{ATEXT}@{ATEXT}>")


def _encoded(text: str) -> str:
    return "=?UTF-8?B?" + base64.b64encode(text.encode()).decode() + "?="


POISONED = {
    "message_id": [
        f"From: 钱七 <qian.qi@example.cn>\r\nMessage-ID: poison-id\r\n\t{SMUGGLED}",
        f"From: qian.qi@example.cn\r\nMessage-ID: <poison-id\r\n\t{SMUGGLED}>",
        f"From: qian.qi@example.cn\r\nMessage-ID: <{'x' * 300}@example.cn>",
        'From: qian.qi@example.cn\r\nMessage-ID: <poison(id)"x"@example.cn>',
    ],
    "threading": [
        "From: qian.qi@example.cn\r\nMessage-ID: <ok-0001@example.cn>\r\n"
        f"In-Reply-To: <earlier@example.cn>\r\n\t{SMUGGLED}\r\n"
        f"References: <root\r\n\t{SMUGGLED}>",
        "From: qian.qi@example.cn\r\nMessage-ID: <ok-0002@example.cn>\r\n"
        f"References: root-id\r\n\t{SMUGGLED}",
    ],
    "subject_and_name": [
        f"From: {_encoded('钱七' + chr(13) + chr(10) + SMUGGLED)} <qian.qi@example.cn>\r\n"
        "Message-ID: <ok-0003@example.cn>\r\n"
        f"Subject: {_encoded('我的卡' + chr(13) + chr(10) + SMUGGLED + chr(7) + chr(0))}",
        "From: =?UTF-8?B?6ZKx5LiD?=\x01\x1b <qian.qi@example.cn>\r\n"
        "Message-ID: <ok-0004@example.cn>\r\n"
        f"Subject: 我的卡\x0b\x1f\r\n\t{SMUGGLED}\x7f",
    ],
}


@pytest.fixture
def endpoint() -> ChannelEndpoint:
    return ChannelEndpoint.objects.create(
        code="mailbox", channel="email", name="客服邮箱", settings={"addresses": [BANK]}
    )


def _is_one_safe_line(value: str) -> bool:
    return value.isprintable() and value == value.strip()


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(raw, id=f"{part}-{n}")
        for part, raws in POISONED.items()
        for n, raw in enumerate(raws)
    ],
)
def test_a_poisoned_header_is_stored_clean_and_the_reply_to_it_is_valid(
    smtp_receiver: SmtpReceiver,
    relay: Sink,
    endpoint: ChannelEndpoint,
    agent: User,
    headers: str,
) -> None:
    body = "Content-Type: text/plain; charset=utf-8\r\n\r\n卡被锁了"
    raw = f"To: {BANK}\r\n{headers}\r\n{body}".encode()

    code, _ = send(smtp_receiver, raw)

    assert code == 250
    message = Message.objects.get()
    assert message.text == "卡被锁了"
    case = message.case
    stored = [
        message.external_id or "",
        case.subject,
        *Conversation.objects.values_list("external_thread_id", flat=True),
        *Customer.objects.values_list("name", flat=True),
    ]
    for value in stored:
        assert _is_one_safe_line(value), value
        assert len(value) <= 255
    assert message.external_id is not None and "Bcc" not in message.external_id

    _reply, item = case_reply(case=case, text="已为您解锁。", actor=agent)
    outbox_deliver()

    assert item is not None
    item.refresh_from_db()
    assert item.status == OutboxStatus.SENT, item.last_error
    sent = relay.last()
    assert sent["Bcc"] is None and not sent.defects
    (_sender, recipients, _content) = relay.received[-1]
    assert recipients == ["qian.qi@example.cn"]
    for name, value in sent.items():  # (a long value is folded: its unfolded form is one line)
        assert _is_one_safe_line(str(value).strip()), (name, value)
        assert not getattr(value, "defects", ()), (name, value.defects)
    if sent["In-Reply-To"] is not None:  # only ever the customer's own, well-formed id
        answered = str(sent["In-Reply-To"]).strip()
        assert MSG_ID.fullmatch(answered), answered
        assert answered == f"<{message.external_id}>"
    assert OutboxMessage.objects.count() == 1
