"""E-mail intake through the running SMTP receiver, with a real SMTP client on loopback."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import pytest
from django.db import DatabaseError, OperationalError

from bankdesk.customers.models import Customer
from bankdesk.intake import services as intake_services
from bankdesk.intake.channels.email import receiver as receiver_module
from bankdesk.intake.channels.email.receiver import SmtpReceiver, smtp_receiver_start
from bankdesk.intake.models import ChannelEndpoint, OutboxMessage
from bankdesk.intake.tests.mail_servers import BANK, free_port, send
from bankdesk.tickets.choices import CaseStatus
from bankdesk.tickets.models import Attachment, Case, Message

FIXTURES = Path(__file__).parent / "fixtures" / "email"

pytestmark = pytest.mark.django_db(transaction=True)


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def email_endpoint(**settings: object) -> ChannelEndpoint:
    return ChannelEndpoint.objects.create(
        code="mailbox",
        channel="email",
        name="客服邮箱",
        settings={"addresses": [BANK], **settings},
    )


def test_a_mail_opens_a_case_and_the_same_message_id_again_changes_nothing(
    smtp_receiver: SmtpReceiver,
) -> None:
    code, _ = send(smtp_receiver, fixture("gbk_subject.eml"))

    assert code == 250
    case = Case.objects.get()
    assert case.subject == "我的信用卡被盗刷了，请尽快处理"
    assert case.channel == "email"
    message = case.messages.get()
    assert message.external_id == "gbk-subject-0001@mail.example.cn"
    assert "境外被刷了三笔" in message.text
    assert case.customer is not None and case.customer.name == "张三"

    code, answer = send(smtp_receiver, fixture("gbk_subject.eml"))

    assert code == 250 and b"already received" in answer
    assert Case.objects.count() == 1
    assert Message.objects.count() == 1


def test_the_same_mail_from_four_connections_at_once_is_one_message(
    smtp_receiver: SmtpReceiver,
) -> None:
    answers: list[int] = []

    def deliver() -> None:
        answers.append(send(smtp_receiver, fixture("first.eml"))[0])

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert answers == [250, 250, 250, 250]
    assert Case.objects.count() == 1
    assert Message.objects.count() == 1


@pytest.mark.parametrize("name", ["out_of_office.eml", "bounce.eml", "bulk.eml"])
def test_automatic_mail_creates_nothing_and_gets_no_answer(
    smtp_receiver: SmtpReceiver, name: str
) -> None:
    code, answer = send(smtp_receiver, fixture(name))

    assert code == 250 and b"automatic" in answer
    assert not Case.objects.exists()
    assert not Message.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_a_bounce_with_a_null_sender_creates_nothing(smtp_receiver: SmtpReceiver) -> None:
    raw = b"From: someone@example.cn\r\nMessage-ID: <n@example.cn>\r\n\r\nYour mail failed."

    code, _ = send(smtp_receiver, raw, sender="")

    assert code == 250
    assert not Case.objects.exists()


def test_a_reply_with_in_reply_to_lands_in_the_same_case(smtp_receiver: SmtpReceiver) -> None:
    send(smtp_receiver, fixture("first.eml"))

    code, _ = send(smtp_receiver, fixture("reply_in_reply_to.eml"))

    assert code == 250
    case = Case.objects.get()
    assert list(case.messages.order_by("id").values_list("external_id", flat=True)) == [
        "first-0001@mail.example.cn",
        "reply-0001@mail.example.cn",
    ]


def test_an_out_of_office_reply_to_an_open_case_does_not_reopen_or_answer(
    smtp_receiver: SmtpReceiver,
) -> None:
    send(smtp_receiver, fixture("first.eml"))
    case = Case.objects.get()
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.RESOLVED)
    raw = fixture("out_of_office.eml").replace(
        b"Auto-Submitted", b"In-Reply-To: <first-0001@mail.example.cn>\r\nAuto-Submitted"
    )

    send(smtp_receiver, raw)

    case.refresh_from_db()
    assert case.status == CaseStatus.RESOLVED
    assert case.messages.count() == 1
    assert not OutboxMessage.objects.exists()


def test_chinese_encodings_html_and_attachments_are_stored_safely(
    smtp_receiver: SmtpReceiver,
) -> None:
    for name in ("big5_body.eml", "gb18030_body.eml", "html_only.eml", "attachment.eml"):
        assert send(smtp_receiver, fixture(name))[0] == 250

    by_id = {message.external_id: message for message in Message.objects.all()}
    assert "戶口被凍結了" in by_id["big5-body-0001@mail.example.hk"].text
    assert "𠮷字" in by_id["gb18030-body-0001@mail.example.cn"].text
    html = by_id["html-only-0001@mail.example.cn"]
    assert html.text == "请帮我查询一笔转账。\n点击"
    assert "<b>转账</b>" in html.html
    for unsafe in ("<script", "alert", "onclick", "javascript:", "<img", "<style"):
        assert unsafe not in html.html
    attachment = Attachment.objects.get()
    assert attachment.message == by_id["attachment-0001@mail.example.cn"]
    assert attachment.filename == "对账单.pdf"
    with attachment.file.open("rb") as stored:
        content = stored.read()
    assert content.startswith(b"%PDF-1.4") and attachment.size == len(content) == 45
    assert attachment.sha256 == hashlib.sha256(content).hexdigest()
    assert attachment.content_type == "application/pdf"
    assert attachment.file.name.rsplit("/", 1)[-1] != "对账单.pdf"  # never the customer's name


def test_mail_from_bankdesks_own_address_creates_nothing(smtp_receiver: SmtpReceiver) -> None:
    email_endpoint()
    send(smtp_receiver, fixture("first.eml"))
    case = Case.objects.get()
    looped = (
        f"From: {BANK}\r\nTo: zhao.liu@example.cn\r\nSubject: Re: x [{case.number}]\r\n"
        f"Message-ID: <loop@bank.example>\r\nIn-Reply-To: <first-0001@mail.example.cn>\r\n\r\n"
        "您好，已为您处理。"
    ).encode()

    code, _ = send(smtp_receiver, looped, sender=BANK)

    assert code == 250
    assert case.messages.count() == 1
    assert not Message.objects.filter(external_id="loop@bank.example").exists()


def test_only_configured_addresses_receive_mail(smtp_receiver: SmtpReceiver) -> None:
    email_endpoint()

    code, _ = send(smtp_receiver, fixture("first.eml"), to="someone-else@bank.example")
    assert code == 550
    assert not Case.objects.exists()

    code, _ = send(smtp_receiver, fixture("first.eml"), to="SERVICE@bank.example")
    assert code == 250
    assert Case.objects.count() == 1


def test_a_switched_off_endpoint_refuses_its_address_when_another_is_on(
    smtp_receiver: SmtpReceiver,
) -> None:
    email_endpoint(addresses=["old@bank.example"])
    ChannelEndpoint.objects.filter(code="mailbox").update(is_active=False)
    ChannelEndpoint.objects.create(
        code="new", channel="email", name="新邮箱", settings={"addresses": [BANK]}
    )

    assert send(smtp_receiver, fixture("first.eml"), to="old@bank.example")[0] == 550


def test_with_every_endpoint_switched_off_no_address_receives_mail(
    smtp_receiver: SmtpReceiver,
) -> None:
    email_endpoint()
    ChannelEndpoint.objects.update(is_active=False)

    assert send(smtp_receiver, fixture("first.eml"))[0] == 550


def test_without_any_email_endpoint_every_address_receives_mail(
    smtp_receiver: SmtpReceiver,
) -> None:
    assert send(smtp_receiver, fixture("first.eml"), to="anyone@anywhere.example")[0] == 250


def test_unreadable_mail_is_refused_permanently(smtp_receiver: SmtpReceiver) -> None:
    code, _ = send(smtp_receiver, b"Subject: no sender at all\r\n\r\nhello")

    assert code == 550
    assert not Case.objects.exists()


def forwarding_nested(depth: int) -> bytes:
    """A mail forwarding a message whose parts nest `depth` deep: each level is a few bytes,
    and re-serialising the forwarded message recursed past the stack."""
    inner = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (level, level)
        for level in range(depth)
    )
    inner += b"Content-Type: text/plain\r\n\r\nhi\r\n"
    inner += b"".join(b"--b%d--\r\n" % level for level in reversed(range(depth)))
    return (
        b"From: customer@example.cn\r\nSubject: fwd\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="top"\r\n\r\n'
        b"--top\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
        b"--top\r\nContent-Type: message/rfc822\r\n\r\n"
        b"From: someone@example.cn\r\nMIME-Version: 1.0\r\n" + inner + b"--top--\r\n"
    )


@pytest.mark.parametrize(
    "raw",
    [
        forwarding_nested(300),
        b"From: customer@example.cn\r\nSubject: x\r\n\r\nmy card\x00 is lost\r\n",
    ],
    ids=["forwarded-nested-deep", "nul-in-text"],
)
def test_mail_built_to_break_the_reader_is_refused_permanently_not_retried_forever(
    smtp_receiver: SmtpReceiver, raw: bytes
) -> None:
    code, _ = send(smtp_receiver, raw)

    assert code == 550
    assert not Case.objects.exists()
    assert send(smtp_receiver, fixture("first.eml"))[0] == 250


def test_a_database_failure_asks_the_sender_to_retry(
    smtp_receiver: SmtpReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unavailable(*args: object, **kwargs: object) -> None:
        raise DatabaseError("database is locked")

    monkeypatch.setattr(receiver_module, "email_receive", unavailable)

    code, _ = send(smtp_receiver, fixture("first.eml"))

    assert code == 451
    assert not Case.objects.exists()


def test_a_message_over_the_size_limit_is_refused() -> None:
    small = smtp_receiver_start(f"127.0.0.1:{free_port()}", data_size_limit=1000)
    try:
        code, _ = send(
            small,
            fixture("first.eml") + b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n" * 40,
        )
    finally:
        small.stop()

    assert code == 552
    assert not Customer.objects.exists()


def test_a_deadlock_is_retried_before_the_sender_is_asked_to(
    smtp_receiver: SmtpReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PostgreSQL breaks a deadlock by aborting one transaction; here the first attempt is it.
    real = intake_services._receive
    calls: list[int] = []

    class Deadlock(Exception):
        sqlstate = "40P01"

    def deadlocked_once(inbound: object) -> object:
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("deadlock detected") from Deadlock()
        return real(inbound)  # type: ignore[arg-type]

    monkeypatch.setattr(intake_services, "_receive", deadlocked_once)

    code, _ = send(smtp_receiver, fixture("first.eml"))

    assert code == 250
    assert len(calls) == 2
    assert Case.objects.count() == 1
