"""The one door in: dedupe, the customer behind the sender, the case a message continues."""

from __future__ import annotations

import pytest

from bankdesk.customers.models import Customer
from bankdesk.intake.channels.base import InboundAttachment, InboundMessage
from bankdesk.intake.choices import IntakeOutcome
from bankdesk.intake.errors import MalformedPayload
from bankdesk.intake.services import inbound_receive
from bankdesk.tickets.choices import CaseStatus
from bankdesk.tickets.models import Case, Message
from bankdesk.tickets.services import case_status_change

pytestmark = pytest.mark.django_db


def _sms(external_id: str, text: str = "我的卡被锁了", phone: str = "13912345678", **kw):
    kw.setdefault("thread_id", phone)
    return InboundMessage(
        channel="sms",
        external_id=external_id,
        text=text,
        sender_kind="phone",
        sender_value=phone,
        **kw,
    )


def test_a_first_message_opens_a_case_for_a_provisional_customer():
    result = inbound_receive(_sms("m1"))
    assert result.outcome == IntakeOutcome.NEW_CASE
    case = result.case
    assert case.channel == "sms" and case.subject == "我的卡被锁了"
    customer = case.customer
    assert customer.is_provisional
    assert customer.name == "*******5678"  # never the number itself
    assert result.message.external_id == "m1"


def test_the_same_message_twice_is_one_message():
    first = inbound_receive(_sms("m1"))
    again = inbound_receive(_sms("m1"))
    assert again.outcome == IntakeOutcome.DUPLICATE
    assert again.message.pk == first.message.pk
    assert Message.objects.count() == 1 and Case.objects.count() == 1


def test_a_known_customer_is_recognised_by_any_spelling_of_their_number(customer):
    result = inbound_receive(_sms("m1", phone="+86 138-1234-5678"))
    assert result.case.customer == customer
    assert Customer.objects.count() == 1


def test_the_next_message_on_the_thread_continues_the_open_case():
    first = inbound_receive(_sms("m1"))
    second = inbound_receive(_sms("m2", text="还在吗"))
    assert second.outcome == IntakeOutcome.ADDED
    assert second.case == first.case
    assert first.case.messages.count() == 2


def test_a_message_after_resolution_reopens_and_after_closure_opens_a_new_case(agent):
    case = inbound_receive(_sms("m1")).case
    case = case_status_change(case=case, status=CaseStatus.OPEN, actor=agent)
    case = case_status_change(case=case, status=CaseStatus.RESOLVED, actor=agent)
    reopened = inbound_receive(_sms("m2"))
    assert (reopened.outcome, reopened.case) == (IntakeOutcome.REOPENED, case)
    assert Case.objects.get(pk=case.pk).status == CaseStatus.OPEN
    case_status_change(case=case, status=CaseStatus.RESOLVED, actor=agent)
    case_status_change(case=case, status=CaseStatus.CLOSED, actor=agent)
    fresh = inbound_receive(_sms("m3"))
    assert fresh.outcome == IntakeOutcome.NEW_CASE and fresh.case != case


def test_automatic_messages_never_open_or_reopen_a_case(agent):
    ignored = inbound_receive(_sms("auto1", is_automatic=True))
    assert (ignored.outcome, ignored.case) == (IntakeOutcome.IGNORED, None)
    assert not Case.objects.exists()
    case = inbound_receive(_sms("m1")).case
    case = case_status_change(case=case, status=CaseStatus.OPEN, actor=agent)
    case_status_change(case=case, status=CaseStatus.RESOLVED, actor=agent)
    later = inbound_receive(_sms("auto2", is_automatic=True))
    assert later.outcome == IntakeOutcome.IGNORED
    assert Case.objects.get(pk=case.pk).status == CaseStatus.RESOLVED


def test_a_quoted_case_number_continues_that_case_only_for_its_own_customer():
    mine = inbound_receive(_sms("m1", phone="13900000001")).case
    quoting = inbound_receive(
        _sms("m2", phone="13900000001", thread_id="other", subject=f"Re: [{mine.number}]")
    )
    assert quoting.case == mine
    stranger = inbound_receive(
        _sms("m3", phone="13900000002", thread_id="x", subject=f"Re: [{mine.number}]")
    )
    assert stranger.case != mine
    assert stranger.outcome == IntakeOutcome.NEW_CASE


def test_a_message_answering_an_earlier_one_lands_on_its_case_even_after_a_merge(agent):
    first = inbound_receive(_sms("m1", thread_id="t1")).case
    second = inbound_receive(_sms("m2", thread_id="t2")).case
    # Same customer, two threads: two cases; staff merge them.
    from bankdesk.tickets.services import case_merge

    case_merge(source=first, target=second, actor=agent)
    answer = inbound_receive(_sms("m3", thread_id="t3", replies_to=("m1",)))
    assert answer.case == second


def test_attachments_are_stored_with_the_message(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    result = inbound_receive(
        _sms(
            "m1",
            text="",
            attachments=(InboundAttachment("回单.txt", "text/plain", b"receipt"),),
        )
    )
    (attachment,) = result.message.attachments.all()
    assert attachment.filename == "回单.txt" and attachment.size == 7


@pytest.mark.parametrize(
    ("message", "field"),
    [
        (InboundMessage(channel="pigeon", external_id="x", text="hi"), "channel"),
        (InboundMessage(channel="sms", external_id="", text="hi"), "external_id"),
        (InboundMessage(channel="sms", external_id="x" * 256, text="hi"), "external_id"),
        (InboundMessage(channel="sms", external_id="x", text="  "), "text"),
        (InboundMessage(channel="sms", external_id="x", text="hi", language="fr"), "language"),
        (InboundMessage(channel="sms", external_id="m1\r\nBcc: x", text="hi"), "external_id"),
        (InboundMessage(channel="sms", external_id="m1\x00", text="hi"), "external_id"),
        (InboundMessage(channel="sms", external_id="x", text="hi", thread_id="t\n1"), "thread_id"),
        (
            InboundMessage(channel="sms", external_id="x", text="hi", thread_id="t" * 256),
            "thread_id",
        ),
        (
            InboundMessage(channel="email", external_id="x", text="hi", replies_to=("a\r\n\tb",)),
            "replies_to",
        ),
        (
            InboundMessage(channel="email", external_id="x", text="hi", case_number="C1\r\nBcc"),
            "case_number",
        ),
        (InboundMessage(channel="sms", external_id="x", text="a\x00b"), "text"),
        (InboundMessage(channel="sms", external_id="x", text="a\ud800b"), "text"),
        (InboundMessage(channel="sms", external_id="x\x00", text="hi"), "external_id"),
        (InboundMessage(channel="sms", external_id="x", text="hi", thread_id="t\x00"), "thread_id"),
        (
            InboundMessage(channel="email", external_id="x", text="hi", replies_to=("<a\x00>",)),
            "replies_to",
        ),
        (
            InboundMessage(
                channel="alipay", external_id="x", text="hi", metadata={"notify_id": "n\x00"}
            ),
            "metadata",
        ),
    ],
)
def test_bad_messages_are_refused_and_nothing_is_kept(message, field):
    with pytest.raises(MalformedPayload) as caught:
        inbound_receive(message)
    assert caught.value.field == field
    assert not Case.objects.exists() and not Customer.objects.exists()


def test_a_sender_whose_number_cannot_be_read_is_taken_without_a_customer():
    result = inbound_receive(_sms("m1", phone="not a phone"))
    assert result.case.customer is None


def test_a_subject_and_a_sender_name_are_kept_as_one_clean_line():
    result = inbound_receive(
        InboundMessage(
            channel="email",
            external_id="m1@example.cn",
            text="卡被锁了",
            subject="我的卡\r\n\tBcc: spy@attacker.example\x00\x07\u2028",
            sender_kind="email",
            sender_value="qian.qi@example.cn",
            sender_name="钱七\r\nBcc: spy@attacker.example\x1b",
            thread_id="m1@example.cn",
        )
    )

    # One line; the typed e-mail address is masked like any identifier in a subject.
    assert result.case.subject == "我的卡 Bcc: s***@attacker.example"
    assert result.case.customer.name == "钱七 Bcc: spy@attacker.example"
