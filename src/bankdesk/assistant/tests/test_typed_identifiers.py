"""Identifiers customers type into messages and subjects — phones, ID numbers, e-mail
addresses, card numbers that fail the Luhn check — are nowhere in the database afterwards,
read as an attacker with a copy of it reads it; what the assistant understands from the same
words (the card's last four digits, the amount) is still there for the person who takes over."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bankdesk.assistant.choices import Speaker
from bankdesk.assistant.models import Turn
from bankdesk.conftest import ApiClient
from bankdesk.intake.channels.base import InboundMessage
from bankdesk.intake.services import inbound_receive
from bankdesk.lib.masking import luhn_valid
from bankdesk.staff.models import User
from bankdesk.tickets.choices import EventKind
from bankdesk.tickets.models import Case

pytestmark = pytest.mark.usefixtures("assistant")

MOBILE = "13812345678"
HONG_KONG_PHONE = "+852 9123 4567"
RESIDENT_ID = "11010519491231002X"
HONG_KONG_ID = "A123456(7)"
TYPED_EMAIL = "li.lei1990@example.com"
MISTYPED_CARD = "6222021234567891"  # 16 digits that fail the Luhn check
CARD = "6217001234567893"  # a real-looking UnionPay number that passes it

TYPED = [MOBILE, HONG_KONG_PHONE, RESIDENT_ID, HONG_KONG_ID, TYPED_EMAIL, MISTYPED_CARD, CARD]
# The same values as an attacker would search for them: digits only, without separators.
SEARCHED = [*TYPED, "91234567", "1101051949123", "A1234567", "li.lei1990", "62220212345678"]


@pytest.fixture
def say(agent: User, api_for: Callable[[User], ApiClient]) -> Callable[[str], dict[str, Any]]:
    api = api_for(agent)

    def send(text: str) -> dict[str, Any]:
        response = api.post("/assistant/reply", {"text": text})
        assert response.status_code == 200, response.json_body
        return dict(response.json_body)

    return send


def test_typed_identifiers_are_nowhere_in_the_database_yet_entities_are_understood(
    say: Callable[[str], dict[str, Any]], database_dump: Callable[[], str]
) -> None:
    assert not luhn_valid(MISTYPED_CARD) and luhn_valid(CARD)
    inbound_receive(
        InboundMessage(
            channel="email",
            external_id="<typed-1@mail.example.cn>",
            sender_kind="email",
            sender_value="wang.xm@example.cn",
            subject=f"卡号 {MISTYPED_CARD} 被冻结，请回电 {MOBILE}",
            text=(
                f"您好，我的身份证号是{RESIDENT_ID}，手机{MOBILE}，香港电话 {HONG_KONG_PHONE}，"
                f"香港身份证 {HONG_KONG_ID}。请发邮件到 {TYPED_EMAIL}。\n"
                f"Card {MISTYPED_CARD} was declined at the branch on 2026-03-15."
            ),
        )
    )
    answer = say(
        f"My card {CARD} was stolen and ¥1,250 was taken. Call me on {MOBILE}, "
        f"my ID is {RESIDENT_ID}, e-mail {TYPED_EMAIL}"
    )

    assert answer["handoff"] is True
    dump = database_dump()
    assert [value for value in SEARCHED if value in dump] == []
    # What the assistant understood from the words before they were masked.
    understood = {(e["kind"], e["value"]) for e in answer["entities"]}
    assert {("card_last4", CARD[-4:]), ("amount", "1250")} <= understood
    handoff = Case.objects.get(pk=answer["case_id"]).events.get(kind=EventKind.ASSISTANT_HANDOFF)
    assert {"kind": "card_last4", "text": "**** 7893", "value": "7893"} in handoff.data["entities"]
    # What staff read: the masked shapes, enough to talk about the card or the phone.
    customer_turn = Turn.objects.get(speaker=Speaker.CUSTOMER).text
    assert "************7893" in customer_turn and "*******5678" in customer_turn
    emailed = Case.objects.get(channel="email")
    assert emailed.subject == "卡号 ************7891 被冻结，请回电 *******5678"
    assert "1****************X" in emailed.messages.get().text
    assert "l***@example.com" in emailed.messages.get().text
