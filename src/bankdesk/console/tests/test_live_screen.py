"""The staff live case screen: the page, the reply box, and the staff WebSocket's gate."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from bankdesk.intake.channels.base import InboundMessage
from bankdesk.intake.channels.webchat.routing import websocket_application as application
from bankdesk.intake.models import OutboxMessage
from bankdesk.intake.services import inbound_receive
from bankdesk.intake.tests.websocket_client import WebsocketCommunicator
from bankdesk.staff.choices import Role
from bankdesk.tickets.models import Case, Message
from bankdesk.tickets.services import (
    case_contact_not_on_file_record,
    case_link,
    case_message_add,
    message_delivery_record,
)

HOST = "localhost"


@pytest.fixture(autouse=True)
def fresh_layer() -> Iterator[None]:
    layer = get_channel_layer()
    async_to_sync(layer.flush)()
    yield
    async_to_sync(layer.flush)()


async def staff_socket(
    cookie: str | None, origin: str = f"http://{HOST}", expect_open: bool = True
) -> WebsocketCommunicator:
    headers = [(b"host", HOST.encode()), (b"origin", origin.encode())]
    if cookie:
        headers.append((b"cookie", f"sessionid={cookie}".encode()))
    communicator = WebsocketCommunicator(application, "/ws/staff/", headers=headers)
    connected, _ = await communicator.connect()
    assert connected is expect_open
    return communicator


def signed_in(client: Client, user) -> str:
    client.force_login(user)
    client.get("/home/", HTTP_HOST=HOST)  # a console page marks the session as active
    return client.cookies["sessionid"].value


def with_second_factor(client: Client, user) -> None:
    """As if the member of staff had given their code (what django_otp.login records)."""
    device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()


def chat_case(text: str = "我的卡被吞了", session: str = "s1") -> Case:
    result = inbound_receive(
        InboundMessage(
            channel="web_chat", external_id=f"{session}:c-{text}", text=text, thread_id=session
        )
    )
    return result.case


def _in_team(case: Case, user) -> Case:
    Case.objects.filter(pk=case.pk).update(team=user.teams.first())
    return Case.objects.get(pk=case.pk)


# -- the page ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_case_page_shows_the_conversation_and_a_reply_box(client, agent):
    case = _in_team(chat_case(), agent)
    client.force_login(agent)
    page = client.get(f"/cases/{case.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "我的卡被吞了" in html and 'name="text"' in html and "csrfmiddlewaretoken" in html
    assert "console/case_live" in html and "<script>" not in html


@pytest.mark.django_db
def test_the_case_page_shows_linked_cases_and_who_is_not_on_file(client, agent):
    case = _in_team(chat_case(), agent)
    named = _in_team(chat_case("另一个问题", session="s2"), agent)
    case_link(case=case, referred=named, actor=None)
    case_contact_not_on_file_record(case=case, message=case.messages.get(), contact=None)
    client.force_login(agent)

    page = client.get(f"/cases/{case.pk}/").content.decode()
    other_page = client.get(f"/cases/{named.pk}/").content.decode()

    assert f'<a href="/cases/{named.pk}/">{named.number}</a>' in page
    assert f'<a href="/cases/{case.pk}/">{case.number}</a>' in other_page
    assert page.count('class="contact-not-on-file"') == 1
    assert 'class="contact-not-on-file"' not in other_page


@pytest.mark.django_db
def test_a_reply_that_was_not_delivered_says_so_on_the_case_page(client, agent):
    case = _in_team(chat_case(), agent)
    reply = case_message_add(case=case, direction="outbound", text="您好", actor=agent)
    message_delivery_record(message=reply, status="failed", reason="the session has ended")
    client.force_login(agent)

    html = client.get(f"/cases/{case.pk}/").content.decode()

    assert html.count('class="delivery-failed"') == 1


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.AGENT, Role.ADMIN])
def test_a_case_out_of_scope_is_not_found_on_the_page_and_cannot_be_answered(
    client, make_staff, role
):
    case = chat_case()
    outsider = make_staff(f"outsider-{role}", role)
    client.force_login(outsider)
    with_second_factor(client, outsider)
    assert client.get(f"/cases/{case.pk}/").status_code == 404
    assert client.post(f"/cases/{case.pk}/reply/", {"text": "hi"}).status_code == 404
    assert Message.objects.count() == 1 and not OutboxMessage.objects.exists()


@pytest.mark.django_db
def test_the_page_needs_a_signed_in_member_of_staff(client):
    case = chat_case()
    response = client.get(f"/cases/{case.pk}/")
    assert response.status_code == 302 and "next=" in response["Location"]


@pytest.mark.django_db
def test_a_supervisor_owing_a_second_factor_is_sent_to_give_it(client, supervisor):
    case = _in_team(chat_case(), supervisor)
    client.force_login(supervisor)
    response = client.get(f"/cases/{case.pk}/")
    assert response.status_code == 302 and response["Location"].startswith("/mfa/")


@pytest.mark.django_db
def test_the_reply_box_answers_in_the_chat(client, agent):
    case = _in_team(chat_case(), agent)
    client.force_login(agent)
    response = client.post(
        f"/cases/{case.pk}/reply/",
        {"text": "您好，请问卡号后四位？"},
        HTTP_X_REQUESTED_WITH="fetch",
    )
    assert response.status_code == 204
    item = OutboxMessage.objects.get()
    assert item.channel == "web_chat" and item.recipient == "s1"
    assert case.messages.filter(direction="outbound").get().author == agent


@pytest.mark.django_db
def test_the_reply_box_is_csrf_protected(agent):
    case = _in_team(chat_case(), agent)
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent)
    assert client.post(f"/cases/{case.pk}/reply/", {"text": "hi"}).status_code == 403
    assert not OutboxMessage.objects.exists()


# -- the staff WebSocket ----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_an_inbound_chat_message_appears_live_on_the_subscribed_screen(client, agent):
    case = _in_team(chat_case(), agent)
    cookie = signed_in(client, agent)

    async def scenario() -> None:
        staff = await staff_socket(cookie)
        await staff.send_json_to({"type": "subscribe", "case_id": case.pk})
        assert await staff.receive_json_from() == {"type": "subscribed", "case_id": case.pk}
        await database_sync_to_async(chat_case)("还在吗")
        frame = await staff.receive_json_from(timeout=5)
        assert frame["type"] == "message" and frame["text"] == "还在吗"
        assert frame["direction"] == "inbound" and frame["case_id"] == case.pk
        await staff.disconnect()

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_a_case_out_of_scope_cannot_be_subscribed_to(client, make_staff, general_team):
    case = chat_case()  # unrouted: no team
    outsider = make_staff("outsider", Role.AGENT)
    cookie = signed_in(client, outsider)

    async def scenario() -> None:
        staff = await staff_socket(cookie)
        await staff.send_json_to({"type": "subscribe", "case_id": case.pk})
        assert await staff.receive_json_from() == {
            "type": "error",
            "code": "not_found",
            "case_id": case.pk,
        }
        await database_sync_to_async(chat_case)("别人的消息")
        assert await staff.receive_nothing(timeout=0.5)
        await staff.disconnect()

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_the_staff_socket_needs_a_signed_in_session_from_our_own_origin(client, agent):
    cookie = signed_in(client, agent)

    async def scenario() -> None:
        await staff_socket(None, expect_open=False)
        await staff_socket(cookie, origin="https://evil.example", expect_open=False)
        staff = await staff_socket(cookie)
        await staff.disconnect()

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_the_staff_socket_refuses_a_session_that_still_owes_a_second_factor(client, supervisor):
    cookie = signed_in(client, supervisor)

    async def scenario() -> None:
        await staff_socket(cookie, expect_open=False)

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_the_staff_socket_refuses_an_idle_session(client, agent):
    client.force_login(agent)  # never visited a page: no activity recorded
    cookie = client.cookies["sessionid"].value

    async def scenario() -> None:
        await staff_socket(cookie, expect_open=False)

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_the_staff_socket_admits_a_supervisor_who_gave_the_second_factor(client, supervisor):
    case = _in_team(chat_case(), supervisor)
    client.force_login(supervisor)
    with_second_factor(client, supervisor)
    cookie = signed_in(client, supervisor)

    async def scenario() -> None:
        staff = await staff_socket(cookie)
        await staff.send_json_to({"type": "subscribe", "case_id": case.pk})
        assert (await staff.receive_json_from())["type"] == "subscribed"
        await staff.disconnect()

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_an_open_screen_is_closed_once_its_session_goes_idle(client, agent, monkeypatch):
    from bankdesk.console import consumers
    from bankdesk.console.live import LAST_SEEN_SESSION_KEY

    case = _in_team(chat_case(), agent)
    cookie = signed_in(client, agent)
    monkeypatch.setattr(consumers, "ACTIVITY_CHECK_SECONDS", 0)

    def last_used_long_ago() -> None:
        session = client.session
        session[LAST_SEEN_SESSION_KEY] = 0
        session.save()

    async def scenario() -> None:
        staff = await staff_socket(cookie)
        await staff.send_json_to({"type": "subscribe", "case_id": case.pk})
        await staff.receive_json_from()
        await database_sync_to_async(last_used_long_ago)()
        await database_sync_to_async(chat_case)("有人吗")
        closed = await staff.receive_output(timeout=5)
        assert closed == {"type": "websocket.close", "code": consumers.CLOSE_UNAUTHENTICATED}

    async_to_sync(scenario)()


@pytest.mark.django_db(transaction=True)
def test_a_screen_watching_the_queue_hears_of_changes_once_however_many(
    client, agent, supervisor, monkeypatch
):
    from bankdesk.console import consumers
    from bankdesk.staff.services import staff_presence_set
    from bankdesk.tickets.services import case_priority_change

    monkeypatch.setattr(consumers, "QUEUE_NOTICE_SECONDS", 0.3)
    cookie = signed_in(client, agent)
    case = _in_team(chat_case(), agent)

    async def scenario() -> None:
        staff = await staff_socket(cookie)
        await database_sync_to_async(chat_case)("没人看队列时")
        assert await staff.receive_nothing(timeout=0.5)  # not watching yet

        await staff.send_json_to({"type": "watch", "view": "cases"})
        assert await staff.receive_json_from() == {"type": "error", "code": "bad_request"}
        await staff.send_json_to({"type": "watch", "view": "queue"})
        assert await staff.receive_json_from() == {"type": "watching", "view": "queue"}

        for priority in ("high", "urgent", "normal"):
            fresh = await database_sync_to_async(Case.objects.get)(pk=case.pk)
            await database_sync_to_async(case_priority_change)(
                case=fresh, priority=priority, actor=supervisor
            )
        assert await staff.receive_json_from(timeout=5) == {"type": "queue_changed"}
        assert await staff.receive_nothing(timeout=0.6)  # three changes, one notice

        await database_sync_to_async(staff_presence_set)(user=supervisor, presence="available")
        assert await staff.receive_json_from(timeout=5) == {"type": "queue_changed"}
        await staff.disconnect()

    async_to_sync(scenario)()
