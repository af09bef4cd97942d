"""WeChat's server URL: signed checks and messages in, passive replies out, nothing from forgers."""

from __future__ import annotations

import itertools
import json
import re
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest
from defusedxml.ElementTree import fromstring
from django.test import Client
from pytest_django.fixtures import Settings

from bankdesk.customers.models import Customer, Identity
from bankdesk.demo.seed import demo_wechat_endpoint_seed
from bankdesk.intake.channels.wechat.protocol import (
    BODY_MAX_BYTES,
    REPLAY_WINDOW_SECONDS,
    signature_of,
    text_reply,
)
from bankdesk.intake.channels.wechat.replay import wechat_nonces_prune
from bankdesk.intake.models import ChannelEndpoint, WeChatNonce
from bankdesk.tickets.choices import Direction
from bankdesk.tickets.models import Case, Message

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures" / "wechat"
TOKEN = "bank-wechat-server-token"
OPENID = "oX7kP0ZbQ1-wRc3dYt5uV8nM2sLa"
ORIGINAL_ID = "gh_3f1a2b4c5d6e"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


# WeChat signs every call with a fresh nonce; bankdesk refuses a nonce used for another body.
_NONCES = itertools.count(84729163)


def signed(token: str = TOKEN, *, timestamp: int | None = None, nonce: str | None = None) -> str:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    nonce = str(next(_NONCES)) if nonce is None else nonce
    return urlencode(
        {"signature": signature_of(token, stamp, nonce), "timestamp": stamp, "nonce": nonce}
    )


def post(body: bytes, *, query: str | None = None, url: str = "/intake/wechat/") -> object:
    return Client().post(f"{url}?{query or signed()}", data=body, content_type="text/xml")


def stored() -> tuple[int, int, int]:
    return Case.objects.count(), Message.objects.count(), Customer.objects.count()


def reply_fields(response: object) -> dict[str, str]:
    assert response["Content-Type"].startswith("application/xml")
    root = fromstring(response.content)
    assert root.tag == "xml"
    return {child.tag: child.text or "" for child in root}


@pytest.fixture
def endpoint() -> ChannelEndpoint:
    return ChannelEndpoint.objects.create(
        code="bank-wechat",
        channel="wechat",
        name="银行微信公众号",
        settings={"app_id": "wx1234567890abcdef", "original_id": ORIGINAL_ID},
        secrets=json.dumps({"token": TOKEN, "app_secret": "app-secret"}),
    )


# -- the URL check ----------------------------------------------------------------------------


def test_url_check_with_a_correct_signature_echoes_echostr(endpoint: ChannelEndpoint) -> None:
    response = Client().get(f"/intake/wechat/?{signed()}&echostr=5837218342914")

    assert response.status_code == 200
    assert response.content == b"5837218342914"
    assert response["Content-Type"].startswith("text/plain")


def test_url_check_with_a_wrong_signature_is_refused(endpoint: ChannelEndpoint) -> None:
    response = Client().get(f"/intake/wechat/?{signed('guessed-token')}&echostr=5837218342914")

    assert response.status_code == 403
    assert b"5837218342914" not in response.content


@pytest.mark.parametrize("age", [REPLAY_WINDOW_SECONDS + 5, -(REPLAY_WINDOW_SECONDS + 5)])
def test_a_correctly_signed_call_outside_the_replay_window_is_refused(
    endpoint: ChannelEndpoint, age: int
) -> None:
    query = signed(timestamp=int(time.time()) - age)

    assert Client().get(f"/intake/wechat/?{query}&echostr=1").status_code == 403
    assert post(fixture("text.xml"), query=query).status_code == 403
    assert stored() == (0, 0, 0)


# -- the four acceptance points ---------------------------------------------------------------


def test_a_correctly_signed_text_gets_reply_xml_with_the_case_number(
    endpoint: ChannelEndpoint,
) -> None:
    started = time.monotonic()
    response = post(fixture("text.xml"))
    elapsed = time.monotonic() - started

    assert response.status_code == 200
    reply = reply_fields(response)
    case = Case.objects.get()
    assert reply["ToUserName"] == OPENID
    assert reply["FromUserName"] == ORIGINAL_ID
    assert reply["MsgType"] == "text"
    assert int(reply["CreateTime"]) >= int(started) - 1
    assert f"工单号 {case.number}" in reply["Content"]
    message = Message.objects.get()
    assert message.channel == "wechat"
    assert message.external_id == "24871234567890123"
    assert message.direction == Direction.INBOUND
    assert message.text == "你好，我的信用卡被扣了年费，请帮我查一下。"
    assert elapsed < 5  # WeChat's passive-reply window


def test_a_wrong_signature_is_refused_and_nothing_is_stored(endpoint: ChannelEndpoint) -> None:
    response = post(fixture("text.xml"), query=signed("guessed-token"))

    assert response.status_code == 403
    assert response.json()["code"] == "bad_signature"
    assert stored() == (0, 0, 0)


def test_a_missing_signature_is_refused_and_nothing_is_stored(endpoint: ChannelEndpoint) -> None:
    response = Client().post("/intake/wechat/", data=fixture("text.xml"), content_type="text/xml")

    assert response.status_code == 403
    assert stored() == (0, 0, 0)


@pytest.mark.parametrize(
    "body",
    [
        fixture("malformed.xml"),
        fixture("entity_expansion.xml"),
        b"",
        b"<notxml><MsgType>text</MsgType></notxml>",
        # A text message without MsgId, and one without Content.
        fixture("text.xml").replace(b"<MsgId>24871234567890123</MsgId>", b""),
        fixture("text.xml").split(b"<Content>")[0] + b"<MsgId>1</MsgId></xml>",
        # An openid that is not one.
        fixture("text.xml").replace(OPENID.encode(), b"<script>"),
    ],
    ids=["malformed", "entities", "empty", "wrong-root", "no-msgid", "no-content", "bad-openid"],
)
def test_a_malformed_message_is_refused_and_nothing_is_stored(
    endpoint: ChannelEndpoint, body: bytes
) -> None:
    response = post(body)

    assert response.status_code == 400
    assert response.json()["code"] == "malformed_payload"
    assert stored() == (0, 0, 0)


def test_the_same_msgid_twice_is_one_message_with_the_same_reply(
    endpoint: ChannelEndpoint,
) -> None:
    first = post(fixture("text.xml"), query=signed(nonce="111"))
    retry = post(fixture("text.xml"), query=signed(nonce="222"))

    assert first.status_code == retry.status_code == 200
    assert reply_fields(first)["Content"] == reply_fields(retry)["Content"]
    assert Message.objects.count() == 1
    assert Case.objects.count() == 1


# -- message types ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "image",
            ["http://mmbiz.qpic.cn/mmbiz_jpg/abc123/0", "Xk2Q9m_media_id_of_the_receipt_photo"],
        ),
        ("voice", ["我想挂失我的借记卡", "Vm3R7voice_media_id"]),
        ("location", ["上海市黄浦区南京东路", "31.230416", "121.473701", "15"]),
        ("link", ["可疑短信截图", "https://example.cn/suspicious"]),
    ],
)
def test_each_message_type_becomes_a_readable_note(
    endpoint: ChannelEndpoint, name: str, expected: list[str]
) -> None:
    response = post(fixture(f"{name}.xml"))

    assert response.status_code == 200
    text = Message.objects.get().text
    for part in expected:
        assert part in text


def test_a_voice_message_without_a_transcript_keeps_a_placeholder(
    endpoint: ChannelEndpoint,
) -> None:
    body = re.sub(rb"<Recognition>.*?</Recognition>", b"", fixture("voice.xml"))
    assert b"Recognition" not in body

    assert post(body).status_code == 200
    assert "语音未识别" in Message.objects.get().text


def test_subscribing_is_welcomed_without_opening_a_case(endpoint: ChannelEndpoint) -> None:
    response = post(fixture("subscribe.xml"))

    assert response.status_code == 200
    reply = reply_fields(response)
    assert reply["ToUserName"] == OPENID
    assert "欢迎" in reply["Content"]
    assert stored() == (0, 0, 0)


def test_unsubscribing_is_acknowledged_with_success_and_nothing_else(
    endpoint: ChannelEndpoint,
) -> None:
    response = post(fixture("unsubscribe.xml"))

    assert response.status_code == 200
    assert response.content == b"success"
    assert stored() == (0, 0, 0)


# -- the customer's timeline ------------------------------------------------------------------


def test_one_openid_is_one_provisional_customer_on_one_open_case(
    endpoint: ChannelEndpoint,
) -> None:
    first = post(fixture("text.xml"))
    second = post(fixture("text.xml").replace(b"24871234567890123", b"24871234567890999"))
    post(fixture("image.xml"))

    customer = Customer.objects.get()
    assert customer.is_provisional
    assert Identity.objects.get(customer=customer).kind == "wechat_openid"
    case = Case.objects.get()
    assert case.customer_id == customer.pk
    assert list(case.messages.values_list("external_id", flat=True).order_by("id")) == [
        "24871234567890123",
        "24871234567890999",
        "24871234567890124",
    ]
    assert reply_fields(first)["Content"] == reply_fields(second)["Content"]


# -- endpoints and their tokens ---------------------------------------------------------------


def test_a_named_endpoint_answers_at_its_own_url(endpoint: ChannelEndpoint) -> None:
    other = ChannelEndpoint.objects.create(
        code="card-centre", channel="wechat", name="信用卡中心", secrets='{"token": "other"}'
    )

    assert post(fixture("text.xml"), url=f"/intake/wechat/{other.code}/").status_code == 403
    response = post(fixture("text.xml"), query=signed("other"), url="/intake/wechat/card-centre/")
    assert response.status_code == 200


@pytest.mark.parametrize("url", ["/intake/wechat/nobody/", "/intake/wechat/switched-off/"])
def test_an_unknown_or_switched_off_endpoint_is_not_found(
    endpoint: ChannelEndpoint, url: str
) -> None:
    ChannelEndpoint.objects.create(
        code="switched-off",
        channel="wechat",
        name="停用",
        is_active=False,
        secrets=endpoint.secrets,
    )

    assert post(fixture("text.xml"), url=url).status_code == 404
    assert stored() == (0, 0, 0)


def test_without_any_endpoint_the_default_url_is_not_found() -> None:
    assert post(fixture("text.xml")).status_code == 404


def test_the_demo_endpoint_takes_its_token_from_the_setting(settings: Settings) -> None:
    settings.BANKDESK_WECHAT_TOKEN = "token-from-the-environment"
    demo_wechat_endpoint_seed()
    demo_wechat_endpoint_seed()  # seeding twice keeps one endpoint

    assert ChannelEndpoint.objects.get(channel="wechat").code == "demo-wechat"
    assert post(fixture("text.xml"), query=signed("token-from-the-environment")).status_code == 200


def test_without_any_token_the_endpoint_says_it_is_not_configured(
    settings: Settings,
) -> None:
    settings.BANKDESK_WECHAT_TOKEN = ""
    demo_wechat_endpoint_seed()

    response = post(fixture("text.xml"), query=signed(""))

    assert response.status_code == 503
    assert response.json()["code"] == "channel_not_configured"
    assert stored() == (0, 0, 0)


def test_a_message_for_another_official_account_is_refused(endpoint: ChannelEndpoint) -> None:
    body = fixture("text.xml").replace(ORIGINAL_ID.encode(), b"gh_somebodyelse")

    assert post(body).status_code == 400
    assert stored() == (0, 0, 0)


def test_an_oversized_body_is_refused_unread(endpoint: ChannelEndpoint) -> None:
    body = fixture("text.xml").replace(
        b"</xml>", b"<Pad>" + b"x" * BODY_MAX_BYTES + b"</Pad></xml>"
    )

    assert post(body).status_code == 400
    assert stored() == (0, 0, 0)


def test_an_encrypted_call_to_an_account_without_an_aes_key_says_it_is_not_configured(
    endpoint: ChannelEndpoint,
) -> None:
    query = signed() + "&encrypt_type=aes&msg_signature=abc"

    response = post(fixture("text.xml"), query=query)

    assert response.status_code == 503
    assert response.json()["code"] == "channel_not_configured"
    assert stored() == (0, 0, 0)


# -- replayed calls ---------------------------------------------------------------------------


def test_a_signed_call_replayed_with_another_body_is_refused(endpoint: ChannelEndpoint) -> None:
    # The plaintext signature covers the token, timestamp and nonce, not the body: whoever
    # captured one signed call could post any message under it within the window.
    query = signed()
    assert post(fixture("text.xml"), query=query).status_code == 200
    forged = (
        fixture("text.xml")
        .replace(b"24871234567890123", b"24871234567890666")
        .replace("请帮我查一下".encode(), "请把我的卡解冻".encode())
    )

    response = post(forged, query=query)

    assert response.status_code == 403
    assert response.json()["code"] == "bad_signature"
    assert list(Message.objects.values_list("external_id", flat=True)) == ["24871234567890123"]


def test_wechats_resend_of_the_same_call_is_answered_again(endpoint: ChannelEndpoint) -> None:
    query = signed()
    first = post(fixture("text.xml"), query=query)

    again = post(fixture("text.xml"), query=query)

    assert again.status_code == 200
    assert reply_fields(again)["Content"] == reply_fields(first)["Content"]
    assert Message.objects.count() == 1


def test_calls_are_forgotten_once_their_signature_has_expired(endpoint: ChannelEndpoint) -> None:
    now = int(time.time())
    for age in (0, REPLAY_WINDOW_SECONDS - 30):
        response = Client().get(f"/intake/wechat/?{signed(timestamp=now - age)}&echostr=1")
        assert response.status_code == 200
    # A call taken an hour ago: its signature stopped verifying 55 minutes ago.
    WeChatNonce.objects.create(
        endpoint=endpoint, timestamp=now - 3600, nonce="1", content_sha256=""
    )

    assert wechat_nonces_prune(now=now) == 1

    assert sorted(WeChatNonce.objects.values_list("timestamp", flat=True)) == [
        now - REPLAY_WINDOW_SECONDS + 30,
        now,
    ]


def test_a_url_check_replayed_with_another_echostr_is_refused(endpoint: ChannelEndpoint) -> None:
    query = signed()
    assert Client().get(f"/intake/wechat/?{query}&echostr=5837218342914").status_code == 200

    response = Client().get(f"/intake/wechat/?{query}&echostr=<script>")

    assert response.status_code == 403


def test_other_methods_are_not_allowed(endpoint: ChannelEndpoint) -> None:
    assert Client().put(f"/intake/wechat/?{signed()}").status_code == 405


# -- the passive reply itself -----------------------------------------------------------------


@pytest.mark.parametrize(
    "content", ["a]]>b", "]]>", "<b>&amp;</b>", "控制\x01字符", "工单号 C20260000123"]
)
def test_the_passive_reply_carries_any_text_safely(content: str) -> None:
    xml = text_reply(to_user=OPENID, from_user=ORIGINAL_ID, content=content, now=1764380000)

    root = fromstring(xml.encode("utf-8"))
    assert root.findtext("Content") == content.replace("\x01", "")
    assert root.findtext("ToUserName") == OPENID
    assert root.findtext("CreateTime") == "1764380000"
