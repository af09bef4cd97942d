"""Whose case a mail may continue: its own customer's, or the holder of the reply token the bank
sent for it. A quoted case number proves nothing — numbers are sequential and printed in every
subject — so a mail quoting someone else's case opens a new case, linked to the quoted one.

Every mail here goes through the running SMTP receiver, and every reply through the real outbox
to a relay on loopback.
"""

from __future__ import annotations

from typing import Any

import pytest

from bankdesk.customers.models import Customer
from bankdesk.customers.normalise import identity_blind_index
from bankdesk.customers.services import IdentityInput, customer_create
from bankdesk.intake.channels.email.receiver import SmtpReceiver
from bankdesk.intake.models import ChannelEndpoint, OutboxMessage
from bankdesk.intake.outbox import outbox_deliver
from bankdesk.intake.services import case_reply
from bankdesk.intake.tests.mail_servers import BANK, Sink, send
from bankdesk.staff.models import Team, User
from bankdesk.tickets.choices import CaseStatus
from bankdesk.tickets.models import Case, CaseEvent, Category
from bankdesk.tickets.services import case_create, case_status_change

pytestmark = pytest.mark.django_db(transaction=True)


def mail(*headers: str, body: str = "请把退款打到我新的账户。") -> bytes:
    head = "\r\n".join(["To: " + BANK, *headers])
    return (
        f"{head}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Transfer-Encoding: 8bit\r\n\r\n{body}"
    ).encode()


@pytest.fixture
def endpoint() -> ChannelEndpoint:
    return ChannelEndpoint.objects.create(
        code="mailbox", channel="email", name="客服邮箱", settings={"addresses": [BANK]}
    )


@pytest.fixture
def complaint(customer: Customer, categories: dict[str, Category], complaint_team: Team) -> Case:
    """王小明's fee complaint, resolved and waiting for him to confirm."""
    case = case_create(
        subject="年费争议",
        channel="email",
        actor=None,
        customer=customer,
        category=categories["complaint_fees"],
        team=complaint_team,
        text="为什么收我年费？",
        external_id="victim-0001@example.cn",
    )
    case = case_status_change(case=case, status=CaseStatus.OPEN, actor=None)
    return case_status_change(case=case, status=CaseStatus.RESOLVED, actor=None)


def _state(case: Case) -> dict[str, Any]:
    """Everything about a case that a stranger's mail must leave as it was."""
    fresh = Case.objects.get(pk=case.pk)
    return {
        "status": fresh.status,
        "updated_at": fresh.updated_at,
        "resolved_at": fresh.resolved_at,
        "team": fresh.team_id,
        "customer": fresh.customer_id,
        "messages": list(fresh.messages.values_list("pk", flat=True)),
        "events": list(
            CaseEvent.objects.filter(case=fresh).exclude(kind="linked").values_list("pk", "kind")
        ),
    }


def _links(case: Case) -> list[tuple[int, str, str]]:
    return [
        (event.data["linked_case_id"], event.data["linked_number"], event.data["relation"])
        for event in CaseEvent.objects.filter(case=case, kind="linked").order_by("id")
    ]


def _assert_new_case_linked_to(quoted: Case, before: dict[str, Any]) -> Case:
    """The mail opened one new case, linked both ways, and the quoted case is as it was."""
    new = Case.objects.exclude(pk=quoted.pk).get()
    assert new.messages.count() == 1
    assert _state(quoted) == before
    assert _links(new) == [(quoted.pk, quoted.number, "refers_to")]
    assert _links(quoted) == [(new.pk, new.number, "referred_to_by")]
    return new


@pytest.mark.parametrize("sender", ["M <not-an-address>", "<a@@b>"])
@pytest.mark.parametrize("claim", ["subject", "in_reply_to"])
def test_a_sender_nobody_can_name_cannot_write_into_a_customers_complaint(
    smtp_receiver: SmtpReceiver, complaint: Case, complaint_team: Team, sender: str, claim: str
) -> None:
    before = _state(complaint)
    quoting = (
        [f"Subject: Re: 年费争议 [{complaint.number}]"]
        if claim == "subject"
        else ["Subject: Re: 年费争议", "In-Reply-To: <victim-0001@example.cn>"]
    )

    code, _ = send(
        smtp_receiver,
        mail(f"From: {sender}", "Message-ID: <attack-0001@evil.example>", *quoting),
        sender="attacker@evil.example",
    )

    assert code == 250
    new = _assert_new_case_linked_to(complaint, before)
    assert new.messages.get().external_id == "attack-0001@evil.example"
    assert new.customer is None
    assert not new.is_complaint and new.team_id != complaint_team.pk
    assert Case.objects.get(pk=complaint.pk).status == CaseStatus.RESOLVED


def test_another_customer_quoting_the_number_gets_a_new_linked_case(
    smtp_receiver: SmtpReceiver, complaint: Case
) -> None:
    other = customer_create(
        customer_number="6200009999",
        name="李四",
        identities=[IdentityInput(kind="email", value="li.si@example.cn")],
    )
    before = _state(complaint)

    send(
        smtp_receiver,
        mail(
            "From: 李四 <li.si@example.cn>",
            f"Subject: Re: 年费争议 [{complaint.number}]",
            "Message-ID: <lisi-0001@example.cn>",
        ),
    )

    new = _assert_new_case_linked_to(complaint, before)
    assert new.customer == other


def test_its_own_customer_quoting_the_number_continues_and_reopens_it(
    smtp_receiver: SmtpReceiver, complaint: Case
) -> None:
    send(
        smtp_receiver,
        mail(
            "From: 王小明 <wang.xm@example.cn>",
            f"Subject: Re: 年费争议 [{complaint.number}]",
            "Message-ID: <wang-0002@example.cn>",
            body="还是没有退。",
        ),
    )

    assert Case.objects.count() == 1
    complaint.refresh_from_db()
    assert complaint.status == CaseStatus.OPEN
    assert complaint.messages.filter(external_id="wang-0002@example.cn").exists()
    assert _links(complaint) == []


def _bank_reply(case: Case, relay: Sink, agent: User) -> str:
    """The Message-ID of a reply the bank sent the customer on this case."""
    case_reply(case=case, text="请提供合同编号。", actor=agent)
    assert outbox_deliver().sent == 1
    message_id = relay.last()["Message-ID"]
    assert isinstance(message_id, str)
    return message_id


def test_the_customer_answering_from_another_address_continues_by_the_reply_token(
    smtp_receiver: SmtpReceiver,
    relay: Sink,
    endpoint: ChannelEndpoint,
    agent: User,
    complaint: Case,
    customer: Customer,
) -> None:
    case_status_change(case=complaint, status=CaseStatus.OPEN, actor=agent)
    message_id = _bank_reply(complaint, relay, agent)
    case_status_change(case=complaint, status=CaseStatus.RESOLVED, actor=agent)

    send(
        smtp_receiver,
        mail(
            "From: 王小明 <xm.wang@another.example>",
            "Subject: Re: 年费争议",
            "Message-ID: <answer-0001@another.example>",
            f"In-Reply-To: {message_id}",
            f"References: <victim-0001@example.cn> {message_id}",
            body="合同编号 HT-2024-0088。",
        ),
    )

    assert Case.objects.count() == 1
    complaint.refresh_from_db()
    assert complaint.status == CaseStatus.OPEN  # as if he had written from his own address
    answer = complaint.messages.get(external_id="answer-0001@another.example")
    # Staff see that it came from a contact not on his file; the address is not added to it.
    (flag,) = CaseEvent.objects.filter(case=complaint, kind="contact_not_on_file")
    assert flag.data["message_id"] == answer.pk
    contact = Customer.objects.get(pk=flag.data["contact_customer_id"])
    assert contact.is_provisional and contact != customer
    new_address = identity_blind_index("email", "xm.wang@another.example")
    assert not customer.identities.filter(lookup=new_address).exists()
    # The bank goes on answering at the address on file.
    _message, item = case_reply(case=complaint, text="已收到。", actor=agent)
    assert item is not None and item.recipient == "wang.xm@example.cn"


def test_the_customer_answering_from_his_own_address_leaves_nothing_to_flag(
    smtp_receiver: SmtpReceiver,
    relay: Sink,
    endpoint: ChannelEndpoint,
    agent: User,
    complaint: Case,
) -> None:
    message_id = _bank_reply(complaint, relay, agent)

    send(
        smtp_receiver,
        mail(
            "From: wang.xm@example.cn",
            "Message-ID: <answer-0002@example.cn>",
            f"In-Reply-To: {message_id}",
        ),
    )

    assert Case.objects.count() == 1
    assert complaint.messages.filter(external_id="answer-0002@example.cn").exists()
    assert not CaseEvent.objects.filter(kind="contact_not_on_file").exists()


@pytest.mark.parametrize("forgery", ["signature", "case_number"])
def test_a_forged_or_borrowed_reply_token_continues_nothing(
    smtp_receiver: SmtpReceiver,
    relay: Sink,
    endpoint: ChannelEndpoint,
    agent: User,
    complaint: Case,
    customer: Customer,
    forgery: str,
) -> None:
    """A token changed by one character, or a genuine token carried over to another case of the
    same customer: both are refused, and the case they name is left as it was."""
    other = case_create(
        subject="账户冻结", channel="email", actor=None, customer=customer, text="为什么冻结？"
    )
    message_id = _bank_reply(other, relay, agent)
    local, domain = message_id.strip("<>").split("@")
    prefix, number, signature, key = local.split(".")
    assert number == other.number
    if forgery == "signature":
        target = other
        signature = signature[:-1] + ("a" if signature[-1] != "a" else "b")
    else:
        target = complaint
        number = complaint.number
    forged = f"<{prefix}.{number}.{signature}.{key}@{domain}>"
    before = _state(target)
    OutboxMessage.objects.all().delete()

    send(
        smtp_receiver,
        mail(
            "From: someone@evil.example",
            "Message-ID: <forged-0001@evil.example>",
            f"In-Reply-To: {forged}",
        ),
    )

    new = Case.objects.get(messages__external_id="forged-0001@evil.example")
    assert new not in (other, complaint)
    assert _state(target) == before
    assert _links(new) == [(target.pk, target.number, "refers_to")]
    assert not CaseEvent.objects.filter(kind="contact_not_on_file").exists()


def test_a_provisional_contact_keeps_writing_onto_its_own_case(smtp_receiver: SmtpReceiver) -> None:
    first = mail(
        "From: 赵六 <zhao.liu@example.cn>", "Subject: 挂失", "Message-ID: <p-0001@example.cn>"
    )
    again = mail(
        "From: zhao.liu@example.cn",
        "Subject: Re: 挂失",
        "Message-ID: <p-0002@example.cn>",
        "In-Reply-To: <p-0001@example.cn>",
    )

    send(smtp_receiver, first)
    case = Case.objects.get()
    send(smtp_receiver, again)
    quoted = mail(
        "From: zhao.liu@example.cn", f"Subject: [{case.number}]", "Message-ID: <p-0003@example.cn>"
    )
    send(smtp_receiver, quoted)

    assert Case.objects.count() == 1
    assert case.customer is not None and case.customer.is_provisional
    assert case.messages.count() == 3
    assert not CaseEvent.objects.filter(kind__in=["linked", "contact_not_on_file"]).exists()
