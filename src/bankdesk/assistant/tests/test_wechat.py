"""The assistant on the WeChat official account: it answers text messages in WeChat's passive
reply, hands over to a person on the same openid, and takes the customer back once the case
is closed."""

from __future__ import annotations

from itertools import count

import pytest

from bankdesk.assistant.models import Dialogue, Turn
from bankdesk.intake.models import ChannelEndpoint
from bankdesk.intake.tests.test_wechat_webhook import (  # the official account's side, shared
    OPENID,
    ORIGINAL_ID,
    endpoint,  # noqa: F401  (a fixture)
    post,
    reply_fields,
)
from bankdesk.tickets.choices import CaseStatus
from bankdesk.tickets.models import Case
from bankdesk.tickets.threads import thread_key

pytestmark = pytest.mark.usefixtures("assistant", "endpoint")

_ids = count(24871234567890001)


def text_message(content: str, msg_id: int | None = None) -> bytes:
    return (
        f"<xml><ToUserName><![CDATA[{ORIGINAL_ID}]]></ToUserName>"
        f"<FromUserName><![CDATA[{OPENID}]]></FromUserName>"
        "<CreateTime>1764380000</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content>"
        f"<MsgId>{msg_id or next(_ids)}</MsgId></xml>"
    ).encode()


def said(content: str, msg_id: int | None = None) -> str:
    response = post(text_message(content, msg_id))
    assert response.status_code == 200, response.content
    fields = reply_fields(response)
    assert fields["ToUserName"] == OPENID and fields["FromUserName"] == ORIGINAL_ID
    return fields["Content"]


def test_a_common_question_is_answered_in_the_passive_reply() -> None:
    assert said("怎么修改银行卡密码") == "您可以在本行任意自动柜员机修改密码。"
    assert Case.objects.count() == 0
    dialogue = Dialogue.objects.get()
    assert (dialogue.channel, dialogue.thread_id) == ("wechat", thread_key("wechat", OPENID))
    assert dialogue.customer is not None  # the openid's (provisional) customer


def test_the_openid_is_kept_only_as_its_blind_index(database_dump) -> None:
    """An openid is the customer's identifier: neither the assistant's dialogue nor the case's
    conversation holds it readable, and the thread still carries the hand-off and the case."""
    said("怎么修改银行卡密码")
    handed = said("转人工")
    case = Case.objects.get()
    assert case.number in said("请尽快处理") and case.number in handed

    assert OPENID not in database_dump()
    dialogue = Dialogue.objects.get()
    assert dialogue.thread_id.startswith("bi1:")
    assert case.conversations.get().external_thread_id == dialogue.thread_id


def test_wechats_retry_of_a_message_gets_the_same_answer_once() -> None:
    first = said("how do I change my PIN", msg_id=24871234567899999)
    again = said("how do I change my PIN", msg_id=24871234567899999)
    assert first == again == "You can change your PIN at any of our cash machines."
    assert Turn.objects.count() == 2


def test_a_hand_off_continues_on_the_openid_until_the_case_is_closed() -> None:
    said("怎么修改银行卡密码")
    handed = said("转人工", msg_id=24871234567800001)
    # WeChat's retry of that message, after the person has the case: the same reply, once.
    assert said("转人工", msg_id=24871234567800001) == handed
    case = Case.objects.get()
    assert case.number in handed and case.channel == "wechat"
    assert case.customer == Dialogue.objects.get().customer
    assert "怎么修改银行卡密码" in case.messages.get().text  # the transcript
    # A person has the case: the customer's words go to them, acknowledged with its number.
    acknowledged = said("请尽快处理")
    assert case.number in acknowledged
    assert list(case.messages.values_list("text", flat=True).order_by("pk"))[1:] == ["请尽快处理"]
    assert Turn.objects.count() == 4
    # Closed: the next question is the assistant's again, in a new dialogue.
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.CLOSED)
    assert said("how do I change my PIN").startswith("You can change your PIN")
    assert Dialogue.objects.count() == 2 and Case.objects.count() == 1


def test_pictures_and_accounts_without_the_assistant_go_to_people() -> None:
    image = (
        f"<xml><ToUserName><![CDATA[{ORIGINAL_ID}]]></ToUserName>"
        f"<FromUserName><![CDATA[{OPENID}]]></FromUserName><CreateTime>1764380000</CreateTime>"
        "<MsgType><![CDATA[image]]></MsgType><PicUrl><![CDATA[http://mmbiz.example/1.jpg]]>"
        "</PicUrl><MediaId><![CDATA[media-1]]></MediaId><MsgId>24871234560000001</MsgId></xml>"
    ).encode()
    assert "工单号" in reply_fields(post(image))["Content"]
    Case.objects.all().delete()
    account = ChannelEndpoint.objects.get(channel="wechat")
    account.settings = {**account.settings, "assistant": False}
    account.save()
    assert "工单号" in said("怎么修改银行卡密码")
    assert Turn.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_retry_that_arrives_while_the_first_copy_is_answered_opens_one_case(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """WeChat retries after five seconds; a slow answer means both copies are in flight."""
    import threading

    from django.db import connections

    from bankdesk.assistant import services
    from bankdesk.intake.tests.test_wechat_webhook import signed

    understand = services._understand
    both_in_flight = threading.Barrier(2, timeout=30)

    def slow_understanding(text: str) -> object:
        both_in_flight.wait()  # neither copy has stored anything yet
        return understand(text)

    monkeypatch.setattr(services, "_understand", slow_understanding)
    message = text_message("我要投诉，转人工", msg_id=24871234567855555)
    replies: list[str] = []
    errors: list[BaseException] = []

    def deliver(nonce: str) -> None:
        try:
            response = post(message, query=signed(nonce=nonce))
            assert response.status_code == 200, response.content
            replies.append(reply_fields(response)["Content"])
        except BaseException as exc:  # reported below; a thread must not die silently
            errors.append(exc)
        finally:
            connections.close_all()

    copies = [threading.Thread(target=deliver, args=(n,)) for n in ("51730001", "51730002")]
    for copy in copies:
        copy.start()
    for copy in copies:
        copy.join()

    assert errors == []
    case = Case.objects.get()
    assert len(replies) == 2 and replies[0] == replies[1] and case.number in replies[0]
    assert Turn.objects.filter(speaker="customer").count() == 1
    assert Dialogue.objects.count() == 1
