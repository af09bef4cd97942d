"""Threads named by the customer's own identifier (a texting or calling phone, a WeChat openid)
keep nothing readable in the database, and replies still reach the customer there."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from bankdesk.customers.services import IdentityInput, customer_create
from bankdesk.intake.channels.sms.views import sms_inbound
from bankdesk.intake.channels.voice.calls import CallRecord, call_receive
from bankdesk.intake.outbox import outbox_deliver
from bankdesk.intake.services import case_reply
from bankdesk.intake.tests.test_sms_provider import provider, sms_endpoint  # noqa: F401
from bankdesk.lib.errors import InvalidInput
from bankdesk.tickets.models import Conversation

PHONE = "+8613900001111"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _raw_threads() -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT channel, external_thread_id FROM tickets_conversation ORDER BY id")
        return [(str(channel), str(thread)) for channel, thread in cursor.fetchall()]


def _text(endpoint, message_id: str, sender: str, text: str):
    return sms_inbound(
        endpoint, {"message_id": message_id, "from": sender, "to": "95588", "text": text}
    )


@pytest.mark.django_db(transaction=True)
def test_sms_and_call_threads_hold_no_phone_number_and_replies_still_reach_the_phone(
    provider,  # noqa: F811
    agent,
    database_dump,
):
    endpoint = sms_endpoint(provider.url)
    texted = _text(endpoint, "SM-1", "+86 139 0000 1111", "我的信用卡被冻结了").case
    called = call_receive(
        CallRecord(
            call_id="CALL-1",
            caller="139 0000 1111",
            called="95588",
            started_at=datetime(2026, 10, 1, 9, 0, tzinfo=SHANGHAI),
            duration_seconds=95,
        )
    ).case
    assert texted is not None and called is not None

    threads = _raw_threads()
    assert sorted(channel for channel, _ in threads) == ["phone", "sms"]
    for _, thread in threads:
        assert "13900001111" not in thread and thread.startswith("bi1:")
    dump = database_dump()
    assert "13900001111" not in dump and "139 0000 1111" not in dump

    # A second text from the same phone continues its case: the thread is still found.
    assert _text(endpoint, "SM-2", "13900001111", "还在等").case == texted
    case_reply(case=texted, text="您好，已为您解冻", actor=agent)
    assert outbox_deliver().sent == 1
    (request,) = provider.requests
    assert request["body"]["to"] == PHONE and request["body"]["text"] == "您好，已为您解冻"


@pytest.mark.django_db
def test_a_reply_goes_to_the_phone_the_customer_texted_from(provider, agent):  # noqa: F811
    """A customer with two phones is answered on the one they wrote from on this case: the
    thread's blind index names that identity, although it cannot be read."""
    endpoint = sms_endpoint(provider.url)
    customer_create(
        customer_number="6200007777",
        name="李雷",
        identities=[
            IdentityInput(kind="phone", value="13900002222"),
            IdentityInput(kind="phone", value="13900003333"),
        ],
    )
    case = _text(endpoint, "SM-3", "13900003333", "查询额度").case
    assert case is not None

    case_reply(case=case, text="您的额度为五万元", actor=agent)
    outbox_deliver()

    assert [r["body"]["to"] for r in provider.requests] == ["+8613900003333"]


@pytest.mark.django_db
def test_a_thread_kept_as_a_blind_index_is_never_used_as_an_address(agent):
    """Without the customer's identity there is nowhere to send: the index is no number."""
    conversation_case = call_receive(
        CallRecord(
            call_id="CALL-2",
            caller="13900004444",
            called="95588",
            started_at=datetime(2026, 10, 1, 9, 0, tzinfo=SHANGHAI),
            duration_seconds=30,
        )
    ).case
    assert conversation_case is not None
    conversation_case.customer.identities.all().delete()
    Conversation.objects.create(
        case=conversation_case,
        channel="sms",
        external_thread_id=Conversation.objects.get().external_thread_id,
    )

    with pytest.raises(InvalidInput, match="no sms address to reply to"):
        case_reply(case=conversation_case, text="您好", actor=agent, channel="sms")
