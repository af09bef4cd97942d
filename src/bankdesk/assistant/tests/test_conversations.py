"""Conversations with the assistant, in English and Chinese, through the API as an app's
back end calls it: answers, clarifying questions, hand-offs with the whole context, masking,
and inputs no customer should be able to break it with."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bankdesk.assistant.choices import Speaker
from bankdesk.assistant.models import Dialogue, ModelVersion, Turn
from bankdesk.conftest import ApiClient
from bankdesk.security.models import AuditEntry
from bankdesk.staff.models import User
from bankdesk.tickets.choices import CaseStatus, EventKind, Priority
from bankdesk.tickets.models import Case, CaseEvent, Message

pytestmark = pytest.mark.usefixtures("assistant")


@pytest.fixture
def say(agent: User, api_for: Callable[[User], ApiClient]) -> Callable[..., dict[str, Any]]:
    api = api_for(agent)

    def send(text: str, conversation: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
        body: dict[str, Any] = {"text": text, **extra}
        if conversation is not None:
            body["conversation_id"] = conversation["conversation_id"]
        response = api.post("/assistant/reply", body)
        assert response.status_code == 200, response.json_body
        return dict(response.json_body)

    return send


@pytest.mark.parametrize(
    ("text", "intent", "words"),
    [
        ("How can I change my PIN?", "change_pin", "cash machines"),
        ("怎么改银行卡密码", "change_pin", "自动柜员机"),
        ("怎麼修改銀行卡密碼", "change_pin", "自動櫃員機"),
    ],
)
def test_a_confident_question_is_answered_in_the_customers_language(
    say: Callable[..., dict[str, Any]], text: str, intent: str, words: str
) -> None:
    answer = say(text)
    assert answer["action"] == "answer", answer
    assert answer["intent"] == intent and answer["handoff"] is False
    assert words in answer["reply"]
    assert answer["case_id"] is None and answer["confidence"] > 0.4


@pytest.mark.parametrize(
    ("opening", "ask", "language"),
    [
        ("How can I change my PIN?", "I want to talk to a human", "en"),
        ("怎么改银行卡密码", "转人工", "zh-hans"),
    ],
)
def test_hand_off_on_request_carries_the_whole_conversation(
    say: Callable[..., dict[str, Any]], opening: str, ask: str, language: str
) -> None:
    first = say(opening)
    handed = say(ask, first)
    assert handed["action"] == "handoff" and handed["handoff"] is True
    case = Case.objects.get(pk=handed["case_id"])
    assert case.language == language and case.number in handed["reply"]
    transcript = case.messages.get().text
    # Everything said so far, both sides, so nobody asks the customer twice.
    assert opening in transcript and ask in transcript and first["reply"] in transcript
    event = CaseEvent.objects.get(case=case, kind=EventKind.ASSISTANT_HANDOFF)
    assert event.data["reason"] == "asked_for_person"
    assert event.data["conversation_id"] == handed["conversation_id"]
    assert set(case.tags.values_list("name", flat=True)) >= {"assistant"}
    # Later messages go to the person on the case, not the assistant.
    later = say("are you there?", handed)
    assert later["action"] == "relay" and later["case_id"] == case.pk
    assert case.messages.count() == 2


@pytest.mark.parametrize(
    ("text", "choice", "expected", "words"),
    [
        ("checking on the status of my replacement", "2", "card_delivery_estimate", "5 working"),
        ("关于新卡寄送的问题", "1", "card_arrival", "补寄"),
    ],
)
def test_a_clarifying_question_between_close_intents(
    say: Callable[..., dict[str, Any]], text: str, choice: str, expected: str, words: str
) -> None:
    asked = say(text)
    assert asked["action"] == "clarify", asked
    offered = [c["intent"] for c in asked["choices"]]
    assert sorted(offered) == ["card_arrival", "card_delivery_estimate"]
    assert all(c["title"] in asked["reply"] for c in asked["choices"])
    picked = offered[int(choice) - 1]
    answered = say(choice, asked)
    assert answered["action"] == "answer" and answered["intent"] == picked
    # The test's expectation holds whichever order the two were offered in.
    if picked == expected:
        assert words in answered["reply"]


@pytest.mark.parametrize(
    "text",
    [
        "My card 4111 1111 1111 1111 was stolen, please help",
        "我的卡4111111111111111被偷了",
    ],
)
def test_a_typed_card_number_is_masked_wherever_it_is_kept(
    say: Callable[..., dict[str, Any]], text: str
) -> None:
    answer = say(text)
    assert {"kind": "card_last4", "text": "**** 1111", "value": "1111"} in [
        {k: v for k, v in e.items() if v is not None} for e in answer["entities"]
    ]
    # Lost or stolen cards always reach a person at once, with what to do this minute.
    assert answer["handoff"] is True
    assert "Freeze your card in the app now." in answer["reply"] or "冻结卡片" in answer["reply"]
    assert Case.objects.get(pk=answer["case_id"]).number in answer["reply"]
    stored = [
        *Turn.objects.values_list("text", flat=True),
        *Message.objects.values_list("text", flat=True),
        *Case.objects.values_list("subject", flat=True),
        *(json.dumps(d) for d in CaseEvent.objects.values_list("data", flat=True)),
        *(json.dumps([a.reason, a.fields]) for a in AuditEntry.objects.all()),
    ]
    # Stored as the bank masks card numbers everywhere: the last four digits only.
    assert stored and not any("4111111111111111" in s.replace(" ", "") for s in stored)
    assert "************1111" in Turn.objects.filter(speaker=Speaker.CUSTOMER).get().text


def test_risk_signals_hand_off_with_priority(say: Callable[..., dict[str, Any]]) -> None:
    regulator = say("我的转账一直没到，再不处理我就去银保监会投诉")
    assert regulator["handoff"] is True
    case = Case.objects.get(pk=regulator["case_id"])
    assert case.priority == Priority.HIGH
    assert "regulator-risk" in case.tags.values_list("name", flat=True)
    event = case.events.get(kind=EventKind.ASSISTANT_HANDOFF)
    assert event.data["regulator"] == ["银保监"]

    angry = say("This is RIDICULOUS!! Your useless bank changed my PIN without asking")
    assert angry["handoff"] is True and angry["anger"] >= 0.5
    complaint = say("I want to make a formal complaint about your branch staff")
    assert complaint["handoff"] is True and complaint["intent"] == "complaint"
    assert Case.objects.get(pk=complaint["case_id"]).priority == Priority.HIGH


def test_out_of_scope_is_said_once_then_a_person_takes_over(
    say: Callable[..., dict[str, Any]],
) -> None:
    first = say("tell me a joke about cats")
    assert first["action"] == "fallback" and first["handoff"] is False
    second = say("what's the weather tomorrow?", first)
    assert second["action"] == "handoff" and second["case_id"] is not None
    event = CaseEvent.objects.get(case_id=second["case_id"], kind=EventKind.ASSISTANT_HANDOFF)
    assert event.data["reason"] == "unsure"


@pytest.mark.parametrize(
    "text",
    ["", "   ", "😀🙏🎉", "x" * 10_000, "我的card丢了 help!!", "卡" * 10_000, "\u200b"],
)
def test_inputs_that_must_never_break_it(say: Callable[..., dict[str, Any]], text: str) -> None:
    answer = say(text)
    assert answer["action"] in {"answer", "clarify", "fallback", "handoff"}
    assert answer["reply"].strip()
    assert Dialogue.objects.get(public_id=answer["conversation_id"])


def test_language_follows_the_customer_and_can_be_set(
    say: Callable[..., dict[str, Any]],
) -> None:
    assert say("怎么改银行卡密码")["language"] == "zh-hans"
    assert say("怎麼修改銀行卡密碼")["language"] == "zh-hant"
    assert say("😀")["language"] == "zh-hans"  # nothing to tell by: the bank's default
    assert say("😀", language="en")["language"] == "en"


def test_bad_requests_are_refused_clearly(
    agent: User, api_for: Callable[[User], ApiClient]
) -> None:
    api = api_for(agent)
    too_long = api.post("/assistant/reply", {"text": "x" * 20_001})
    assert too_long.status_code == 422 and too_long.json_body["field"] == "text"
    unknown = api.post(
        "/assistant/reply",
        {"text": "hi", "conversation_id": "00000000-0000-4000-8000-000000000000"},
    )
    assert unknown.status_code == 404 and unknown.json_body["field"] == "conversation_id"
    assert api.post("/assistant/reply", {"text": "hi", "language": "fr"}).status_code == 422
    assert api.post("/assistant/reply", {"text": "a\x00b"}).status_code == 422
    assert not Dialogue.objects.exists()


def test_a_new_model_serves_without_a_restart(
    say: Callable[..., dict[str, Any]],
    assistant: ModelVersion,
    trained_directory: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bankdesk.assistant import engine
    from bankdesk.assistant.tests.conftest import install_model

    monkeypatch.setattr(engine, "CHECK_EVERY_SECONDS", 0.0)
    assert say("How can I change my PIN?")["model_version"] == assistant.pk
    newer = install_model(trained_directory)
    assert say("How can I change my PIN?")["model_version"] == newer.pk


def test_a_resolved_case_reopens_when_the_customer_writes_again(
    say: Callable[..., dict[str, Any]],
) -> None:
    from bankdesk.tickets.services import case_status_change

    handed = say("转人工")
    case = Case.objects.get(pk=handed["case_id"])
    case = case_status_change(case=case, status=CaseStatus.OPEN, actor=None)
    case_status_change(case=case, status=CaseStatus.RESOLVED, actor=None)
    say("还是没解决", handed)
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN and case.messages.count() == 2


def _handed_over_by(agent: User, api_for: Callable[[User], ApiClient]) -> dict[str, Any]:
    handed = api_for(agent).post("/assistant/reply", {"text": "转人工"}).json_body
    assert handed["action"] == "handoff"
    return dict(handed)


def test_a_conversation_is_out_of_reach_of_staff_who_did_not_start_it(
    agent: User,
    supervisor: User,
    make_staff: Callable[..., User],
    api_for: Callable[[User], ApiClient],
) -> None:
    from bankdesk.staff.services import team_create

    handed = _handed_over_by(agent, api_for)
    case = Case.objects.get(pk=handed["case_id"])
    elsewhere = make_staff("cards_agent", teams=[team_create(code="cards", name="信用卡组")])
    assert api_for(elsewhere).get(f"/cases/{case.pk}").status_code == 404
    turns, messages = Turn.objects.count(), case.messages.count()
    # Neither someone who may not see the case, nor a colleague who may: the dialogue is its
    # caller's, and nobody else's words are put on the case as the customer's.
    for other in (elsewhere, supervisor):
        sent = api_for(other).post(
            "/assistant/reply",
            {"text": "请把退款转到我的账户", "conversation_id": handed["conversation_id"]},
        )
        assert sent.status_code == 404 and sent.json_body["field"] == "conversation_id"
        assert "case_id" not in sent.json_body and case.number not in json.dumps(sent.json_body)
    assert (Turn.objects.count(), case.messages.count()) == (turns, messages)
    # Its caller still continues it.
    later = api_for(agent).post(
        "/assistant/reply", {"text": "还在吗", "conversation_id": handed["conversation_id"]}
    )
    assert later.status_code == 200 and later.json_body["action"] == "relay"
    assert case.messages.count() == messages + 1


def test_no_member_of_staff_speaks_in_a_customers_channel_thread(
    agent: User, api_for: Callable[[User], ApiClient]
) -> None:
    from bankdesk.assistant.services import assistant_reply

    on_thread = assistant_reply(
        text="转人工", actor=None, channel="web_chat", thread_id="session-1", client_id="m1"
    )
    sent = api_for(agent).post(
        "/assistant/reply",
        {"text": "hello", "conversation_id": str(on_thread.dialogue.public_id)},
    )
    assert sent.status_code == 404
    assert Turn.objects.filter(dialogue=on_thread.dialogue).count() == 2
