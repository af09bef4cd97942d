"""The assistant in the web chat: it answers first, hands over to a person with the
conversation, and a reload or a resend shows and stores everything once, in order."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from channels.db import database_sync_to_async

from bankdesk.assistant.models import Dialogue, Turn
from bankdesk.intake.models import ChannelEndpoint
from bankdesk.intake.services import case_reply
from bankdesk.intake.tests.test_webchat_protocol import (  # the widget's side, shared
    chat,
    fresh_layer,  # noqa: F401  (autouse: an empty channel layer per test)
    opened,
    run,
)
from bankdesk.tickets.models import Case, Message

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def endpoint(db: None) -> ChannelEndpoint:
    return ChannelEndpoint.objects.create(
        code="bank-web", channel="web_chat", name="网上银行在线客服", settings={}
    )


async def send(communicator: Any, client_id: str, text: str) -> list[dict[str, Any]]:
    """Send a message; the frames that answer it (an ack, then the assistant's turn)."""
    await communicator.send_json_to({"type": "message", "client_id": client_id, "text": text})
    ack = await communicator.receive_json_from(timeout=5)
    assert ack["type"] == "ack" and ack["client_id"] == client_id, ack
    if "turn" not in ack:
        return [ack]
    return [ack, await communicator.receive_json_from(timeout=5)]


def test_the_assistant_answers_a_common_question_without_opening_a_case(endpoint, assistant):
    async def scenario() -> None:
        communicator = chat()
        welcome = await opened(communicator)
        assert welcome["assistant"] == {"name": "智能助手"}
        ack, answer = await send(communicator, "c1", "怎么修改银行卡密码")
        assert ack["turn"] < answer["turn"] and "seq" not in ack
        assert answer["author"] == "assistant" and answer["name"] == "智能助手"
        assert answer["text"] == "您可以在本行任意自动柜员机修改密码。"
        ack, answer = await send(communicator, "c2", "how do I change my PIN")
        assert answer["text"] == "You can change your PIN at any of our cash machines."
        await communicator.disconnect()

    run(scenario)
    assert Case.objects.count() == 0
    dialogue = Dialogue.objects.get()
    assert dialogue.channel == "web_chat" and len(dialogue.thread_id) == 24
    assert list(dialogue.turns.values_list("client_id", flat=True)) == ["c1", "", "c2", ""]


def test_a_hand_off_continues_the_same_chat_with_a_person(endpoint, assistant, agent):
    session: dict[str, Any] = {}

    async def scenario() -> None:
        communicator = chat()
        session["id"] = (await opened(communicator))["session_id"]
        await send(communicator, "c1", "我的卡号 6222 0212 3456 7894 收不到短信")
        ack, answer = await send(communicator, "c2", "转人工")
        case = await Case.objects.aget()
        assert case.number in answer["text"] and answer["author"] == "assistant"
        # From now on the chat is the case's: messages are stored on it and reach the staff.
        (ack,) = await send(communicator, "c3", "请尽快处理")
        assert ack["seq"] == ack["message_id"]
        await Case.objects.filter(pk=case.pk).aupdate(team=await agent.teams.afirst())
        await database_sync_to_async(case_reply)(
            case=case, text="您好，我来为您处理", actor=agent, channel="web_chat"
        )
        staff = await communicator.receive_json_from(timeout=5)
        assert staff["author"] == "staff" and staff["text"] == "您好，我来为您处理"
        await communicator.disconnect()

    run(scenario)
    case = Case.objects.get()
    messages = list(case.messages.order_by("pk").values_list("text", flat=True))
    assert "转人工" in messages[0] and "收不到短信" in messages[0]  # the transcript
    assert "************7894" in messages[0] and "3456" not in messages[0]  # masked first
    assert messages[1:] == ["请尽快处理", "您好，我来为您处理"]

    async def reload() -> None:
        communicator = chat()
        welcome = await opened(communicator, session_id=session["id"])
        assert welcome["assistant"] is None  # a person has the chat now
        frames = [await communicator.receive_json_from() for _ in range(6)]
        assert await communicator.receive_nothing()
        turns, rest = frames[:4], frames[4:]
        assert [f["author"] for f in turns] == ["customer", "assistant", "customer", "assistant"]
        assert [f.get("client_id") for f in turns[::2]] == ["c1", "c2"]
        assert "************7894" in turns[0]["text"]
        # The transcript the case opened with is the staff's; the widget showed it live.
        assert [(f["author"], f["text"]) for f in rest] == [
            ("customer", "请尽快处理"),
            ("staff", "您好，我来为您处理"),
        ]
        assert all("seq" in f for f in rest) and all("turn" in f for f in turns)
        await communicator.disconnect()

    run(reload)


def _resent_after_a_reconnect(text: str) -> None:
    """Send a message, drop the connection, come back to the same session and send it again
    with the same client id, as a browser that never saw the acknowledgement does: the turns
    shown on return and the answer to the resend are those of the first time."""
    session: dict[str, Any] = {}

    async def first() -> None:
        communicator = chat()
        session["id"] = (await opened(communicator))["session_id"]
        session["frames"] = await send(communicator, "c1", text)
        await communicator.disconnect()

    async def again() -> None:
        communicator = chat()
        await opened(communicator, session_id=session["id"])
        shown = [await communicator.receive_json_from() for _ in range(2)]
        assert [f["turn"] for f in shown] == [f["turn"] for f in session["frames"]]
        assert await send(communicator, "c1", text) == session["frames"]
        await communicator.disconnect()

    run(first)
    run(again)


def test_a_message_resent_after_a_dropped_connection_is_answered_once(endpoint, assistant):
    _resent_after_a_reconnect("how do I change my PIN")
    assert Turn.objects.count() == 2


def test_an_endpoint_without_the_assistant_takes_chats_straight_to_people(assistant):
    ChannelEndpoint.objects.create(
        code="staff-only",
        channel="web_chat",
        name="人工客服",
        settings={"assistant": False},
        secrets=json.dumps({}),
    )

    async def scenario() -> None:
        communicator = chat(path="/ws/chat/?endpoint=staff-only")
        assert (await opened(communicator))["assistant"] is None
        (ack,) = await send(communicator, "c1", "how do I change my PIN")
        assert ack["seq"] == ack["message_id"]
        await communicator.disconnect()

    run(scenario)
    assert Case.objects.count() == 1 and Turn.objects.count() == 0


def test_without_a_trained_model_chats_go_to_people(endpoint):
    async def scenario() -> None:
        communicator = chat()
        assert (await opened(communicator))["assistant"] is None
        (ack,) = await send(communicator, "c1", "怎么修改银行卡密码")
        assert "seq" in ack
        await communicator.disconnect()

    run(scenario)
    assert Message.objects.count() == 1


@pytest.mark.browser
def test_in_the_widget_the_assistant_answers_then_a_person_takes_over(
    assistant, agent, general_team, server, browser
):
    from playwright.sync_api import expect

    from bankdesk.conftest import browser_sign_in, off_the_browser_thread
    from bankdesk.intake.tests.test_webchat_browser import _case_for_team

    problems: list[str] = []
    page = browser.new_context().new_page()
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(f"{server}/intake/chat/demo/")
    bubbles = page.locator(".bdchat-message")
    page.fill(".bdchat-input", "怎么修改银行卡密码")
    page.click(".bdchat-send")
    expect(bubbles.nth(1)).to_contain_text("您可以在本行任意自动柜员机修改密码。")
    expect(bubbles.nth(1)).to_have_attribute("data-author", "assistant")
    expect(bubbles.nth(0)).not_to_have_class(re.compile("bdchat-pending"))
    page.fill(".bdchat-input", "转人工")
    page.click(".bdchat-send")
    expect(bubbles.nth(3)).to_contain_text(re.compile(r"C\d{11}"))

    case = off_the_browser_thread(lambda: _case_for_team(general_team))
    agent_page = browser.new_context().new_page()
    browser_sign_in(agent_page, server, agent)
    agent_page.goto(f"{server}/cases/{case.pk}/")
    expect(agent_page.locator(".thread")).to_contain_text("怎么修改银行卡密码")
    agent_page.fill("textarea[name=text]", "您好，我是客服小王。")
    agent_page.click("form.reply button[type=submit]")
    expect(page.locator('.bdchat-message[data-author="staff"]')).to_contain_text("客服小王")

    # A reload shows the same chat, in the same order, the assistant's part first.
    expected = bubbles.all_inner_texts()
    page.reload()
    expect(bubbles).to_have_count(5)
    assert bubbles.all_inner_texts() == expected
    authors = [bubbles.nth(i).get_attribute("data-author") for i in range(5)]
    assert authors == ["customer", "assistant", "customer", "assistant", "staff"]
    assert not problems, problems


def test_a_resent_hand_off_message_is_not_stored_again_on_the_case(endpoint, assistant):
    # Resent once a person has the chat: still the assistant's answer, not a case message.
    _resent_after_a_reconnect("转人工")
    assert Case.objects.get().messages.count() == 1  # the transcript only
    assert Turn.objects.count() == 2
