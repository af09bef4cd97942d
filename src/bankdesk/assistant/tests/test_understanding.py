"""Entities and signals read from customers' words, in English, 简体 and 繁體."""

from __future__ import annotations

from datetime import date

import pytest

from bankdesk.assistant.entities import extract_entities
from bankdesk.assistant.signals import read_signals

TODAY = date(2026, 11, 28)


def _found(text: str) -> set[tuple[str, str, str]]:
    return {(e.kind, e.value, e.currency) for e in extract_entities(text, today=TODAY)}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "我昨天转了5000元给朋友，流水号是TX20261127001，卡尾号6789",
            {
                ("amount", "5000", "CNY"),
                ("date", "2026-11-27", ""),
                ("reference", "TX20261127001", ""),
                ("card_last4", "6789", ""),
            },
        ),
        (
            "I was charged £45.20 twice on 3rd November, card ending in 1234",
            {("amount", "45.20", "GBP"), ("date", "2026-11-03", ""), ("card_last4", "1234", "")},
        ),
        (
            "轉帳3,000港幣，卡號後四位是 0042",
            {("amount", "3000", "HKD"), ("card_last4", "0042", "")},
        ),
        ("三千五百元和2万港币", {("amount", "3500", "CNY"), ("amount", "20000", "HKD")}),
        ("on Nov 25 I paid $120.50", {("date", "2026-11-25", ""), ("amount", "120.50", "USD")}),
        # A day later in the year than today is last year's.
        ("12月30日那笔消费", {("date", "2025-12-30", "")}),
        ("2026-02-30 is not a date", set()),
        # Said relative to today (Saturday 28 November 2026): the latest such day before it.
        ("last thursday I paid", {("date", "2026-11-26", "")}),
        ("next saturday please", {("date", "2026-12-05", "")}),
        ("two weeks ago", {("date", "2026-11-14", "")}),
        ("charged on the 29th", {("date", "2026-10-29", "")}),
        ("上周一转的账", {("date", "2026-11-16", "")}),
        ("3天前的交易", {("date", "2026-11-25", "")}),
        ("昨晚被扣款", {("date", "2026-11-27", "")}),
        ("maybe 10 o'clock", set()),
        # The sign after the number, and amounts in words with a scale.
        (
            "a contactless payment of 84$ and 700£",
            {("amount", "84", "USD"), ("amount", "700", "GBP")},
        ),
        ("more than a thousand pounds", {("amount", "1000", "GBP")}),
        ("over 2.5 million dollars", {("amount", "2500000", "USD")}),
        ("I have 3 cards", set()),
        # A day to come: forward, when the message speaks of the future and not the past.
        ("I need the money by Wednesday", {("date", "2026-12-02", "")}),
        ("can we make it a meeting on the 5th", {("date", "2026-12-05", "")}),
        ("I will pay on December the 12th", {("date", "2026-12-12", "")}),
        ("I was charged on Wednesday, the fee will be refunded", {("date", "2026-11-25", "")}),
        ("last week Monday", {("date", "2026-11-16", "")}),
        ("next week Monday", {("date", "2026-11-30", "")}),
        ("card 4111 1111 1111 1111 declined", {("card_last4", "1111", "")}),
        # Not Luhn-valid: an account or phone number, not a card.
        ("account 1234567890123", set()),
        ("hello", set()),
        ("", set()),
    ],
)
def test_entities(text: str, expected: set[tuple[str, str, str]]) -> None:
    assert _found(text) == expected


def test_a_full_card_number_never_appears_in_an_entity() -> None:
    (card,) = extract_entities("my card is 4111-1111-1111-1111", today=TODAY)
    assert card.text == "**** 1111" and "4111" not in card.text


@pytest.mark.parametrize(
    ("text", "wants_person"),
    [
        ("转人工", True),
        ("轉人工", True),
        ("我要人工客服", True),
        ("I want to talk to a human", True),
        ("can I speak to someone please", True),
        ("agent please", True),
        ("人工智能是什么", False),
        ("a person stole my card", False),
        ("my personal details changed", False),
    ],
)
def test_asking_for_a_person(text: str, wants_person: bool) -> None:
    assert read_signals(text).wants_person is wants_person


@pytest.mark.parametrize(
    ("text", "angry"),
    [
        ("This is RIDICULOUS!! I am fed up with your useless bank", True),
        ("你们这是什么破银行，气死我了！！", True),
        ("你們這樣太過分了，岂有此理", True),
        ("my card hasn't arrived yet", False),
        ("请问怎么改密码", False),
    ],
)
def test_anger(text: str, angry: bool) -> None:
    assert read_signals(text).is_angry is angry


def test_sentiment_direction_and_negation() -> None:
    assert read_signals("thank you, that was really helpful").sentiment > 0
    assert read_signals("I am not happy with this").sentiment < 0
    assert read_signals("我对服务很不满意").sentiment < 0
    assert read_signals("谢谢，问题解决了").sentiment > 0
    assert read_signals("what is my balance").sentiment == 0


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("再不处理我就去银保监会投诉", ["银保监"]),
        ("我會向金管局投訴", ["金管局"]),
        ("I will go to the financial ombudsman", ["ombudsman"]),
        ("I've called my lawyer", ["lawyer"]),
        ("where is my card", []),
    ],
)
def test_regulator_and_press_are_noticed(text: str, named: list[str]) -> None:
    assert read_signals(text).regulator == named
