"""Replies by e-mail: through the real outbox to an SMTP server on loopback, threaded so the
customer's answer comes back to the same case, and never answered when it loops back."""

from __future__ import annotations

import email
from email.policy import default as default_policy
from pathlib import Path

import pytest
from django.test import override_settings

from bankdesk.intake.channels.email.inbox import email_receive
from bankdesk.intake.choices import IntakeOutcome, OutboxStatus
from bankdesk.intake.models import ChannelEndpoint, OutboxMessage
from bankdesk.intake.outbox import outbox_deliver
from bankdesk.intake.services import case_reply
from bankdesk.intake.tests.mail_servers import BANK, Sink, free_port
from bankdesk.staff.models import User
from bankdesk.tickets.models import Case, Message

FIXTURES = Path(__file__).parent / "fixtures" / "email"


@pytest.fixture
def endpoint(db: None) -> ChannelEndpoint:
    return ChannelEndpoint.objects.create(
        code="mailbox",
        channel="email",
        name="客服邮箱",
        settings={"addresses": [BANK], "from_name": "示例银行客服"},
    )


def customer_mail() -> Case:
    result = email_receive((FIXTURES / "first.eml").read_bytes())
    assert result.outcome == IntakeOutcome.NEW_CASE and result.case is not None
    return result.case


def test_a_reply_goes_out_threaded_with_the_case_token_and_a_stable_message_id(
    relay: Sink, endpoint: ChannelEndpoint, agent: User
) -> None:
    case = customer_mail()

    _message, item = case_reply(case=case, text="您好，提前还款需要带身份证和合同。", actor=agent)
    report = outbox_deliver()

    assert item is not None
    assert report.sent == 1
    sender, recipients, _ = relay.received[0]
    assert sender == BANK
    assert recipients == ["zhao.liu@example.cn"]
    mail = relay.last()
    assert mail["Subject"] == f"Re: 贷款提前还款 [{case.number}]"
    assert mail["In-Reply-To"] == "<first-0001@mail.example.cn>"
    assert mail["References"] == "<first-0001@mail.example.cn>"
    token = item.payload_data()["reply_token"]
    assert token.startswith(f"{case.number}.")
    assert mail["Message-ID"] == f"<bd.{token}.{item.idempotency_key}@bank.example>"
    assert mail["From"].addresses[0].addr_spec == BANK
    assert mail["From"].addresses[0].display_name == "示例银行客服"
    assert mail["Auto-Submitted"] is None
    assert mail.get_content().strip() == "您好，提前还款需要带身份证和合同。"
    item.refresh_from_db()
    assert item.status == OutboxStatus.SENT
    assert item.provider_message_id == f"bd.{token}.{item.idempotency_key}@bank.example"


def test_the_customers_answer_to_a_reply_comes_back_to_its_case(
    relay: Sink, endpoint: ChannelEndpoint, agent: User
) -> None:
    case = customer_mail()
    _message, item = case_reply(case=case, text="请提供合同编号。", actor=agent)
    outbox_deliver()
    assert item is not None
    # The id of a reply sent before reply tokens: the outbox key alone still finds the case.
    answer = (
        "From: zhao.liu@example.cn\r\nTo: service@bank.example\r\nSubject: =?UTF-8?B?"
        "5aW955qE?=\r\nMessage-ID: <answer-1@example.cn>\r\n"
        f"In-Reply-To: <{item.idempotency_key}@bank.example>\r\n\r\nHT-2024-0088"
    ).encode()

    result = email_receive(answer)

    assert result.outcome == IntakeOutcome.ADDED
    assert result.case == case


def test_bankdesks_own_reply_coming_back_in_creates_nothing(
    relay: Sink, endpoint: ChannelEndpoint, agent: User
) -> None:
    case = customer_mail()
    case_reply(case=case, text="已处理。", actor=agent)
    outbox_deliver()
    (_sender, _recipients, content) = relay.received[0]
    messages_before = Message.objects.count()

    result = email_receive(content, endpoint=endpoint)

    assert result.outcome == IntakeOutcome.IGNORED
    assert Message.objects.count() == messages_before
    assert OutboxMessage.objects.count() == 1


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        ("451 4.7.1 greylisted, try again later", OutboxStatus.PENDING),
        ("550 5.1.1 no such user", OutboxStatus.DEAD),
    ],
)
def test_a_temporary_refusal_is_retried_and_a_permanent_one_is_final(
    relay: Sink, endpoint: ChannelEndpoint, agent: User, answer: str, status: str
) -> None:
    case = customer_mail()
    relay.answer = answer

    _message, item = case_reply(case=case, text="您好。", actor=agent)
    outbox_deliver()

    assert item is not None
    item.refresh_from_db()
    assert item.status == status
    assert answer.split()[0] in item.last_error


def test_an_unreachable_relay_is_retried(endpoint: ChannelEndpoint, agent: User) -> None:
    case = customer_mail()

    with override_settings(BANKDESK_SMTP_RELAY=f"127.0.0.1:{free_port()}"):
        _message, item = case_reply(case=case, text="您好。", actor=agent)
        outbox_deliver()

    assert item is not None
    item.refresh_from_db()
    assert item.status == OutboxStatus.PENDING
    assert "could not be reached" in item.last_error


def test_every_attempt_carries_the_same_message_id(
    relay: Sink, endpoint: ChannelEndpoint, agent: User
) -> None:
    case = customer_mail()
    relay.answer = "421 4.3.2 shutting down"
    _message, item = case_reply(case=case, text="您好。", actor=agent)
    assert item is not None
    outbox_deliver()
    relay.answer = "250 OK"
    OutboxMessage.objects.filter(pk=item.pk).update(next_attempt_at=item.created_at)

    outbox_deliver()

    item.refresh_from_db()
    assert item.status == OutboxStatus.SENT and item.attempts == 2
    token = item.payload_data()["reply_token"]
    assert relay.last()["Message-ID"] == f"<bd.{token}.{item.idempotency_key}@bank.example>"


def test_a_stored_folded_message_id_neither_breaks_the_send_nor_injects_a_header(
    relay: Sink, endpoint: ChannelEndpoint, agent: User
) -> None:
    # A Message-ID stored before intake cleaned header values, exactly as an old row holds it.
    case = customer_mail()
    poison = "poison-id\r\n\tBcc: attacker@evil.example"
    Message.objects.filter(case=case, external_id="first-0001@mail.example.cn").update(
        external_id=poison
    )
    _message, poisoned = case_reply(case=case, text="您好，已为您查询。", actor=agent)
    others = email_receive(
        (FIXTURES / "first.eml").read_bytes().replace(b"first-0001", b"second-0002")
    ).case
    assert poisoned is not None and others is not None
    replies = [case_reply(case=others, text=f"第{n}次回复", actor=agent)[1] for n in range(5)]

    report = outbox_deliver()

    assert report.sent == 6 and report.retrying == report.dead == 0
    assert not OutboxMessage.objects.exclude(status=OutboxStatus.SENT).exists()
    poisoned_mail = next(
        raw for _, _, raw in relay.received if f".{poisoned.idempotency_key}@".encode() in raw
    )
    assert b"Bcc" not in poisoned_mail and b"attacker" not in poisoned_mail
    assert all(recipients == ["zhao.liu@example.cn"] for _, recipients, _ in relay.received)
    parsed = email.message_from_bytes(poisoned_mail, policy=default_policy)
    assert parsed["In-Reply-To"] is None and parsed["References"] is None
    assert parsed["Subject"] == f"Re: 贷款提前还款 [{case.number}]"
    assert len(replies) == 5
