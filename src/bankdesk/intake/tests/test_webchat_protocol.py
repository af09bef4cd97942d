"""The customer's WebSocket: hello, messages onto cases, acks, resends, order, typing, limits."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from bankdesk.customers.models import Customer
from bankdesk.intake.channels.webchat import consumers
from bankdesk.intake.channels.webchat.routing import websocket_application as application
from bankdesk.intake.channels.webchat.tokens import chat_session_sign, customer_token_mint
from bankdesk.intake.models import ChannelEndpoint, OutboxMessage
from bankdesk.intake.outbox import outbox_deliver
from bankdesk.intake.services import case_reply
from bankdesk.intake.tests.websocket_client import WebsocketCommunicator
from bankdesk.tickets.models import Case, Message

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "token-secret-shared-with-the-bank-app"
HOST = "localhost"


@pytest.fixture(autouse=True)
def fresh_layer() -> Iterator[None]:
    layer = get_channel_layer()
    async_to_sync(layer.flush)()
    yield
    async_to_sync(layer.flush)()


@pytest.fixture
def endpoint(db: None) -> ChannelEndpoint:
    return ChannelEndpoint.objects.create(
        code="bank-web",
        channel="web_chat",
        name="网上银行在线客服",
        settings={"origins": ["https://www.bank.example"]},
        secrets=json.dumps({"customer_token_secret": SECRET}),
    )


def chat(origin: str = f"http://{HOST}", path: str = "/ws/chat/") -> WebsocketCommunicator:
    headers = [(b"host", HOST.encode()), (b"origin", origin.encode())]
    return WebsocketCommunicator(application, path, headers=headers)


async def opened(communicator: WebsocketCommunicator, **hello: Any) -> dict[str, Any]:
    connected, _ = await communicator.connect()
    assert connected
    await communicator.send_json_to({"type": "hello", **hello})
    welcome: dict[str, Any] = await communicator.receive_json_from()
    assert welcome["type"] == "welcome"
    return welcome


async def say(communicator: WebsocketCommunicator, client_id: str, text: str) -> dict[str, Any]:
    await communicator.send_json_to({"type": "message", "client_id": client_id, "text": text})
    frame: dict[str, Any] = await communicator.receive_json_from(timeout=5)
    return frame


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    async_to_sync(scenario)()


def test_a_first_message_opens_an_anonymous_case_and_is_acknowledged(endpoint):
    async def scenario() -> None:
        communicator = chat()
        welcome = await opened(communicator)
        assert welcome["session_id"] and welcome["is_identified"] is False
        ack = await say(communicator, "c1", "我的信用卡被盗刷了")
        assert ack["type"] == "ack" and ack["client_id"] == "c1"
        assert ack["seq"] == ack["message_id"]
        await communicator.disconnect()

    run(scenario)
    case = Case.objects.get()
    assert case.channel == "web_chat" and case.customer is None
    message = case.messages.get()
    assert message.text == "我的信用卡被盗刷了"
    assert message.external_id.endswith(":c1")


def test_a_resent_message_after_a_reconnect_is_stored_once(endpoint):
    async def scenario() -> None:
        first = chat()
        welcome = await opened(first)
        ack = await say(first, "c1", "你好")
        await first.disconnect()
        again = chat()
        resumed = await opened(again, session_id=welcome["session_id"], last_seq=ack["seq"])
        assert resumed["session_id"]
        repeat = await say(again, "c1", "你好")
        assert repeat["type"] == "ack" and repeat["message_id"] == ack["message_id"]
        follow_up = await say(again, "c2", "还在吗")
        assert follow_up["seq"] > ack["seq"]
        await again.disconnect()

    run(scenario)
    assert Message.objects.count() == 2
    assert Case.objects.count() == 1


def test_a_reconnect_replays_what_came_after_the_last_seq_in_order(endpoint, agent):
    session: dict[str, Any] = {}

    async def start() -> None:
        communicator = chat()
        welcome = await opened(communicator)
        session["id"] = welcome["session_id"]
        session["first"] = (await say(communicator, "c1", "我要挂失"))["seq"]
        await communicator.disconnect()

    run(start)
    case = Case.objects.get()
    case.team = agent.teams.first()
    case.save()
    case_reply(case=case, text="已为您挂失", actor=agent, channel="web_chat")
    case_reply(case=case, text="还有其他问题吗？", actor=agent, channel="web_chat")

    async def come_back() -> None:
        communicator = chat()
        await opened(communicator, session_id=session["id"], last_seq=session["first"])
        replayed = [await communicator.receive_json_from() for _ in range(2)]
        assert [frame["text"] for frame in replayed] == ["已为您挂失", "还有其他问题吗？"]
        assert replayed[0]["seq"] < replayed[1]["seq"]
        assert {frame["author"] for frame in replayed} == {"staff"}
        assert await communicator.receive_nothing()
        await communicator.disconnect()

    run(come_back)


def test_a_staff_reply_reaches_the_open_widget_live(endpoint, agent):
    async def scenario() -> None:
        communicator = chat()
        await opened(communicator)
        await say(communicator, "c1", "转账失败")
        case = await Case.objects.aget()
        await Case.objects.filter(pk=case.pk).aupdate(team=await agent.teams.afirst())
        from channels.db import database_sync_to_async

        await database_sync_to_async(case_reply)(
            case=case, text="请提供交易时间", actor=agent, channel="web_chat"
        )
        frame = await communicator.receive_json_from(timeout=5)
        assert frame["type"] == "message" and frame["text"] == "请提供交易时间"
        assert frame["author"] == "staff" and "agent" not in frame["name"]
        # The outbox worker's delivery only nudges; the widget is not sent the reply twice.
        await database_sync_to_async(outbox_deliver)()
        assert await communicator.receive_nothing()
        await communicator.disconnect()

    run(scenario)
    assert OutboxMessage.objects.get().status == "sent"


def test_a_valid_customer_token_identifies_the_customer(endpoint, customer):
    token = customer_token_mint(secret=SECRET, customer_number=customer.customer_number)

    async def scenario() -> None:
        communicator = chat()
        welcome = await opened(communicator, customer_token=token)
        assert welcome["is_identified"] is True
        await say(communicator, "c1", "查询余额")
        await communicator.disconnect()

    run(scenario)
    assert Case.objects.get().customer == customer


@pytest.mark.parametrize(
    "token",
    [
        customer_token_mint(secret="someone-else", customer_number="6200001234"),
        customer_token_mint(secret=SECRET, customer_number="6200001234", lifetime=-10),
        customer_token_mint(secret=SECRET, customer_number="no-such-customer"),
        "garbage",
    ],
    ids=["forged", "expired", "unknown-customer", "malformed"],
)
def test_an_invalid_token_leaves_the_chat_anonymous_with_an_error(endpoint, customer, token):
    async def scenario() -> None:
        communicator = chat()
        await communicator.connect()
        await communicator.send_json_to({"type": "hello", "customer_token": token})
        error = await communicator.receive_json_from()
        assert error == {"type": "error", "code": "token_invalid", "message": error["message"]}
        welcome = await communicator.receive_json_from()
        assert welcome["type"] == "welcome" and welcome["is_identified"] is False
        await say(communicator, "c1", "你好")
        await communicator.disconnect()

    run(scenario)
    assert Case.objects.get().customer is None
    assert Customer.objects.count() == 1


def test_an_oversized_message_is_refused_with_an_error_and_nothing_stored(endpoint):
    async def scenario() -> None:
        communicator = chat()
        await opened(communicator)
        error = await say(communicator, "c1", "长" * (consumers.TEXT_MAX + 1))
        assert error["type"] == "error" and error["code"] == "too_long"
        assert error["client_id"] == "c1"
        ack = await say(communicator, "c2", "短一点")
        assert ack["type"] == "ack"
        await communicator.disconnect()

    run(scenario)
    assert Message.objects.count() == 1


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "message", "client_id": "c1", "text": "   "},
        {"type": "message", "client_id": "no spaces allowed", "text": "hi"},
        {"type": "message", "client_id": "c1", "text": ["not", "text"]},
        {"type": "launch-missiles"},
        ["not", "an", "object"],
    ],
)
def test_malformed_frames_get_an_error_frame_never_a_crash(endpoint, frame):
    async def scenario() -> None:
        communicator = chat()
        await opened(communicator)
        await communicator.send_json_to(frame)
        assert (await communicator.receive_json_from())["type"] == "error"
        await communicator.send_to(text_data="{not json")
        assert (await communicator.receive_json_from())["type"] == "error"
        assert (await say(communicator, "ok", "仍然可用"))["type"] == "ack"
        await communicator.disconnect()

    run(scenario)


def test_binary_and_giant_frames_are_refused_unread(endpoint):
    async def scenario() -> None:
        communicator = chat()
        await opened(communicator)
        await communicator.send_input({"type": "websocket.receive", "bytes": b"\x00\x01"})
        assert (await communicator.receive_json_from())["code"] == "bad_frame"
        await communicator.send_to("x" * (consumers.FRAME_MAX + 1))
        assert (await communicator.receive_json_from())["code"] == "bad_frame"
        assert (await say(communicator, "ok", "仍然可用"))["type"] == "ack"
        await communicator.disconnect()

    run(scenario)


def test_frames_before_hello_are_refused(endpoint):
    async def scenario() -> None:
        communicator = chat()
        await communicator.connect()
        error = await say(communicator, "c1", "你好")
        assert error["code"] == "hello_first"
        await communicator.disconnect()

    run(scenario)
    assert not Message.objects.exists()


def test_a_flood_of_frames_is_rate_limited(endpoint):
    async def scenario() -> None:
        communicator = chat()
        await opened(communicator)
        for _ in range(int(consumers.RATE_BURST) + 5):
            await communicator.send_json_to({"type": "typing", "is_typing": True})
        error = await communicator.receive_json_from()
        assert error["code"] == "rate_limited"
        await communicator.disconnect()

    run(scenario)


def test_an_origin_not_on_the_endpoints_list_is_refused(endpoint):
    async def scenario() -> None:
        listed, _ = await chat(origin="https://www.bank.example").connect()
        own_host, _ = await chat(origin=f"http://{HOST}").connect()
        foreign, code = await chat(origin="https://evil.example").connect()
        assert listed and own_host
        assert not foreign and code == consumers.CLOSE_FORBIDDEN_ORIGIN

    run(scenario)


def test_an_unknown_endpoint_code_is_refused(endpoint):
    async def scenario() -> None:
        connected, _ = await chat(path="/ws/chat/?endpoint=nope").connect()
        assert not connected

    run(scenario)


def test_typing_is_relayed_to_staff_and_back(endpoint, agent, client):
    from bankdesk.console.tests.test_live_screen import staff_socket

    async def scenario() -> None:
        customer_side = chat()
        await opened(customer_side)
        await say(customer_side, "c1", "在吗")
        case = await Case.objects.aget()
        await Case.objects.filter(pk=case.pk).aupdate(team=await agent.teams.afirst())
        staff = await staff_socket(cookie)
        await staff.send_json_to({"type": "subscribe", "case_id": case.pk})
        assert (await staff.receive_json_from())["type"] == "subscribed"
        await customer_side.send_json_to({"type": "typing", "is_typing": True})
        assert await staff.receive_json_from() == {
            "type": "typing",
            "case_id": case.pk,
            "author": "customer",
            "is_typing": True,
        }
        await staff.send_json_to({"type": "typing", "case_id": case.pk, "is_typing": True})
        assert await customer_side.receive_json_from() == {"type": "typing", "is_typing": True}
        await staff.disconnect()
        await customer_side.disconnect()

    client.force_login(agent)
    client.get("/home/")
    cookie = client.cookies["sessionid"].value
    run(scenario)


def test_a_session_id_not_issued_by_bankdesk_starts_a_new_session(endpoint):
    forged = chat_session_sign("guessed") + "x"

    async def scenario() -> None:
        welcome = await opened(chat(), session_id=forged)
        assert welcome["session_id"] != forged

    run(scenario)
