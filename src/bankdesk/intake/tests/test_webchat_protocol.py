"""The customer's WebSocket: hello, messages onto cases, acks, resends, order, typing, limits."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
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
from bankdesk.security.ratelimit import Limit
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


def chat(
    origin: str = f"http://{HOST}", path: str = "/ws/chat/", address: str = "203.0.113.7"
) -> WebsocketCommunicator:
    headers = [(b"host", HOST.encode()), (b"origin", origin.encode())]
    return WebsocketCommunicator(application, path, headers=headers, client=(address, 51234))


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


@pytest.mark.parametrize("text", ["a\x00b", "bell\x07"])
def test_text_no_database_can_keep_is_refused_before_anything_is_written(endpoint, text):
    async def scenario() -> None:
        communicator = chat()
        await opened(communicator)
        # Escaped as JSON.stringify would send it: the frame itself is well-formed.
        await communicator.send_to(json.dumps({"type": "message", "client_id": "c1", "text": text}))
        error = await communicator.receive_json_from()
        assert (error["type"], error["client_id"]) == ("error", "c1")
        assert (await say(communicator, "ok", "仍然可用"))["type"] == "ack"
        await communicator.disconnect()

    run(scenario)
    assert [message.text for message in Message.objects.order_by("pk")] == ["仍然可用"]


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


@pytest.mark.parametrize(
    "frame",
    [
        "[" * (consumers.FRAME_MAX - 1),
        '{"type": "message", "client_id": "c1", "text": ' * 500,
        '{"type": "hello", "session_id": ' + "[" * 5000 + "]" * 5000 + "}",
        '{"type": "message", "client_id": "c1", "text": "\\ud800"}',
        '{"type": "message", "client_id": "c1", "client_id": "c2", "text": "hi"}',
        '{"type": "hello", "last_seq": ' + "9" * 5000 + "}",
        '{"type": "hello", "last_seq": NaN}',
    ],
    ids=["deep-arrays", "deep-objects", "deep-field", "surrogate", "twice", "huge", "nan"],
)
def test_an_unreadable_frame_gets_an_error_frame_and_the_chat_goes_on(endpoint, frame):
    async def scenario() -> None:
        communicator = chat()
        await opened(communicator)
        await communicator.send_to(frame)
        error = await communicator.receive_json_from()
        assert (error["type"], error["code"]) == ("error", "bad_frame")
        assert (await say(communicator, "ok", "仍然可用"))["type"] == "ack"
        await communicator.disconnect()

    run(scenario)
    assert [message.text for message in Message.objects.order_by("pk")] == ["仍然可用"]


def test_a_deeply_nested_frame_before_hello_is_refused_too(endpoint):
    async def scenario() -> None:
        communicator = chat()
        await communicator.connect()
        await communicator.send_to("[" * 20_000)
        assert (await communicator.receive_json_from())["code"] == "bad_frame"
        await communicator.send_json_to({"type": "hello"})
        assert (await communicator.receive_json_from())["type"] == "welcome"
        await communicator.disconnect()

    run(scenario)


def test_new_chats_from_one_address_past_the_limit_are_closed_with_a_reason_and_open_no_case(
    endpoint, settings
):
    settings.BANKDESK_RATE_LIMIT_CHAT_SESSIONS = "10/60"
    limit = Limit.parse(settings.BANKDESK_RATE_LIMIT_CHAT_SESSIONS)
    closed: list[tuple[int, str]] = []
    first_session: dict[str, str] = {}

    async def thirty_chats() -> None:
        for number in range(30):
            communicator = chat()
            assert (await communicator.connect())[0]
            await communicator.send_json_to({"type": "hello"})
            frame = await communicator.receive_json_from()
            if frame["type"] == "welcome":
                first_session.setdefault("id", frame["session_id"])
                assert (await say(communicator, f"c{number}", "你好"))["type"] == "ack"
                await communicator.disconnect()
            else:
                assert (frame["type"], frame["code"]) == ("error", "rate_limited")
                closed.append(await communicator.receive_close())

    async def still_served() -> None:
        # Another address starts a chat, and this address's own chats go on.
        elsewhere = chat(address="198.51.100.20")
        await opened(elsewhere)
        assert (await say(elsewhere, "e1", "别处的客户"))["type"] == "ack"
        await elsewhere.disconnect()
        back = chat()
        await opened(back, session_id=first_session["id"])
        assert (await back.receive_json_from())["text"] == "你好"  # the same chat, replayed
        assert (await say(back, "again", "我又来了"))["type"] == "ack"
        await back.disconnect()

    # All thirty in one window of the limit, however long the run takes on a slow machine.
    with time_machine.travel(datetime(2026, 10, 1, 9, 0, tzinfo=UTC), tick=True):
        run(thirty_chats)
        assert Case.objects.count() == limit.count
        assert len(closed) == 30 - limit.count
        assert {code for code, _ in closed} == {consumers.CLOSE_ABUSE}
        assert all("too many new chats" in reason for _, reason in closed)
        run(still_served)
    assert Case.objects.count() == limit.count + 1


def test_frames_from_one_address_past_its_limit_are_refused_across_connections(endpoint, settings):
    settings.BANKDESK_RATE_LIMIT_CHAT_FRAMES = "12/60"

    async def scenario() -> None:
        first, second = chat(), chat()
        await opened(first)
        await opened(second)  # two hellos: two frames of the twelve
        for _ in range(9):
            await first.send_json_to({"type": "typing", "is_typing": True})
        # Its answer shows that all ten of this connection's frames have been counted.
        await first.send_json_to({"type": "launch-missiles"})
        assert (await first.receive_json_from())["code"] == "unknown_frame"
        refused = await say(second, "c1", "第十三帧")
        assert (refused["type"], refused["code"]) == ("error", "rate_limited")
        elsewhere = chat(address="198.51.100.20")
        await opened(elsewhere)
        assert (await say(elsewhere, "e1", "别处"))["type"] == "ack"
        for communicator in (first, second, elsewhere):
            await communicator.disconnect()

    with time_machine.travel(datetime(2026, 10, 1, 9, 0, tzinfo=UTC), tick=True):
        run(scenario)
    assert [message.text for message in Message.objects.order_by("pk")] == ["别处"]


def test_a_message_larger_than_any_chat_frame_is_closed_by_the_server_unread(endpoint, server):
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    with connect(server.replace("http://", "ws://") + "/ws/chat/") as socket:
        socket.send(json.dumps({"type": "hello"}))
        assert json.loads(socket.recv(timeout=5))["type"] == "welcome"
        socket.send("长" * consumers.FRAME_MAX * 2)  # 6 × FRAME_MAX bytes: past the 4 × read
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009  # message too big
