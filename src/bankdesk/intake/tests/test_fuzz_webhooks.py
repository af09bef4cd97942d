"""Every way in over HTTP, fuzzed: no body, signed or not, is answered with a server error.

Each channel endpoint under /intake/ (and the intake API's call and branch operations, which
the schema fuzz reaches only with well-formed JSON) gets hostile bodies from `hostile`. Signed
channels get them both unsigned and with the signature computed here, so the fuzz reaches past
the signature into the parser and the database. Every answer must be below 500; a refusal must
be the error contract and leave nothing stored; afterwards the endpoint still takes a good
message.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import time
from typing import Any
from urllib.parse import urlencode

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.http import HttpResponse
from django.test import Client
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bankdesk.customers.models import Customer
from bankdesk.intake.channels.alipay.signing import rsa2_sign
from bankdesk.intake.channels.sms.webhook import signature_for
from bankdesk.intake.channels.wechat.protocol import BODY_MAX_BYTES, signature_of
from bankdesk.intake.models import ChannelEndpoint
from bankdesk.intake.tests.hostile import (
    UNREADABLE_XML,
    field,
    json_bodies,
    json_values,
    nested_xml,
    texts,
    xml_document,
)
from bankdesk.intake.tests.test_alipay import new_key, notification, public_pem
from bankdesk.staff.services import branch_create
from bankdesk.tickets.models import Case, Message

pytestmark = pytest.mark.django_db

# Enough to meet each kind of hostile body many times over, few enough for a minute on SQLite;
# derandomized, as .ci/fuzz-api fixes its seed, so every run tries the same bodies.
FUZZ = settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SECRET = "fuzz-webhook-secret"
WECHAT_TOKEN = "fuzz-wechat-token"
WECHAT_ORIGINAL_ID = "gh_fuzz0000001"
ALIPAY_APP_ID = "2021004123456789"

Stored = tuple[int, int, int]


def stored() -> Stored:
    return Case.objects.count(), Message.objects.count(), Customer.objects.count()


def answered_safely(response: HttpResponse, before: Stored) -> None:
    """Below 500; a refusal is the error contract and keeps nothing."""
    assert response.status_code < 500, response.content[:500]
    if response.status_code >= 400:
        assert set(json.loads(response.content)) == {"code", "message", "field"}
        assert stored() == before


def signed_post(path: str, body: bytes, signing: str) -> HttpResponse:
    headers = {}
    if signing == "valid":
        headers["X-Bankdesk-Signature"] = signature_for(SECRET, body)
    elif signing == "wrong":
        headers["X-Bankdesk-Signature"] = signature_for("not-the-secret", body)
    response: HttpResponse = Client().post(
        path, data=body, content_type="application/json", headers=headers
    )
    return response


def webhook_endpoint(code: str, channel: str, **secrets: str) -> ChannelEndpoint:
    return ChannelEndpoint.objects.create(
        code=code,
        channel=channel,
        name=code,
        settings={"app_id": ALIPAY_APP_ID, "original_id": WECHAT_ORIGINAL_ID},
        secrets=json.dumps(secrets),
    )


signings = st.sampled_from(["valid", "valid", "none", "wrong"])
# Tried on every run before the generated ones: the bodies that brought a webhook down.
DEEP_ARRAYS, DEEP_OBJECTS = b"[" * 50_000, b'{"a":' * 20_000

sms_shaped = st.fixed_dictionaries(
    {
        "message_id": field("SM1", "SM2"),
        "from": field("+8613812345678", "13912345678", "+852 9123 4567"),
        "to": field("95588"),
        "text": field("我的卡被锁了"),
    },
    optional={"received_at": field("2026-10-01T09:00:00+08:00")},
)

social_shaped = st.fixed_dictionaries(
    {
        "id": field("4987654321"),
        "platform": field("weibo", "douyin"),
        "author_handle": field("xiaoli_88"),
        "text": field("@某某银行 年费扣了两次"),
    },
    optional={
        "author_name": field("小李"),
        "url": field("https://weibo.com/x/1", "javascript:alert(1)"),
        "created_at": field("2026-10-01T09:00:00+08:00"),
    },
)


def test_the_sms_webhook_answers_any_body_without_a_server_error():
    webhook_endpoint("sms-fuzz", "sms", webhook_secret=SECRET)

    @FUZZ
    @given(body=json_bodies(sms_shaped, max_bytes=300_000), signing=signings)
    @example(body=DEEP_ARRAYS, signing="valid")
    @example(body=DEEP_OBJECTS, signing="valid")
    @example(
        body=dumps_any({"from": "13812345678", "received_at": "0001-01-01T00:00:00+01:00"}),
        signing="valid",
    )
    def hostile(body: bytes, signing: str) -> None:
        before = stored()
        answered_safely(signed_post("/intake/sms/sms-fuzz/", body, signing), before)

    hostile()
    good = json.dumps({"message_id": "ok", "from": "13812345678", "to": "95588", "text": "好"})
    assert signed_post("/intake/sms/sms-fuzz/", good.encode(), "valid").status_code == 200


def test_the_social_webhook_answers_any_body_without_a_server_error():
    webhook_endpoint("social-fuzz", "social", webhook_secret=SECRET)

    @FUZZ
    @given(body=json_bodies(social_shaped, max_bytes=300_000), signing=signings)
    @example(body=DEEP_ARRAYS, signing="valid")
    @example(body=DEEP_OBJECTS, signing="valid")
    def hostile(body: bytes, signing: str) -> None:
        before = stored()
        answered_safely(signed_post("/intake/social/social-fuzz/", body, signing), before)

    hostile()
    good = {"id": "ok", "platform": "weibo", "author_handle": "a", "text": "好"}
    response = signed_post("/intake/social/social-fuzz/", json.dumps(good).encode(), "valid")
    assert response.status_code == 200


# -- Alipay: RSA2-signed form or JSON ---------------------------------------------------------

biz_shaped = st.fixed_dictionaries(
    {},
    optional={
        "msg_id": field("m1", "m2"),
        "from_user_id": field("2088102012345678"),
        "msg_type": field("text", "image", "event"),
        "content": field("花呗还款失败"),
        "media_id": field("M1"),
        "create_time": field("2026-11-29 09:33:20"),
    },
)
biz_contents = st.one_of(
    json_bodies(biz_shaped, max_bytes=20_000).map(lambda raw: raw.decode("utf-8", "replace")),
    texts,
)
alipay_params = st.fixed_dictionaries(
    {"biz_content": biz_contents},
    optional={
        "app_id": field(ALIPAY_APP_ID),
        "sign_type": field("RSA2", "RSA"),
        "notify_id": field("n1"),
        "msg_method": field("alipay.open.public.message.notify"),
    },
)


content_types = st.sampled_from(
    [
        "application/json",
        "application/json; charset=gbk",
        "application/x-www-form-urlencoded",
        "application/x-www-form-urlencoded; charset=gbk",
        "multipart/form-data",
        "multipart/form-data; boundary=x",
        "text/plain",
        "",
    ]
)


@pytest.fixture(scope="module")
def alipay_key() -> rsa.RSAPrivateKey:
    return new_key()


def test_alipay_answers_any_notification_without_a_server_error(alipay_key):
    webhook_endpoint("alipay-fuzz", "alipay", alipay_public_key=public_pem(alipay_key))
    url = "/intake/alipay/alipay-fuzz/"

    def send(params: dict[str, Any], as_json: bool, signing: str) -> HttpResponse:
        text_params = {k: v for k, v in params.items() if isinstance(v, str)}
        if signing == "valid" and len(text_params) == len(params):
            # Text with a lone surrogate cannot be encoded, so Alipay could not sign it either.
            with contextlib.suppress(UnicodeEncodeError):
                params = {**params, "sign": rsa2_sign(text_params, alipay_key)}
        response: HttpResponse
        if as_json:
            response = Client().post(url, data=dumps_any(params), content_type="application/json")
        else:
            form = urlencode({k: str(v) for k, v in params.items()}, errors="replace")
            response = Client().post(
                url, data=form, content_type="application/x-www-form-urlencoded"
            )
        return response

    @FUZZ
    @given(
        params=alipay_params | st.dictionaries(texts, json_values, max_size=4),
        as_json=st.booleans(),
        signing=signings,
    )
    @example(params=notification(biz_content="[" * 8_000), as_json=False, signing="valid")
    @example(
        params=notification(
            biz_content=json.dumps({"msg_id": "m", "from_user_id": "u", "content": "\x00"})
        ),
        as_json=False,
        signing="valid",
    )
    def hostile(params: dict[str, Any], as_json: bool, signing: str) -> None:
        before = stored()
        answered_safely(send(params, as_json, signing), before)

    @FUZZ
    @given(body=json_bodies(st.just({}), max_bytes=60_000), content_type=content_types)
    @example(body=b"[" * 60_000, content_type="application/json")
    @example(body=b"&n=1" * 2_000, content_type="application/x-www-form-urlencoded")
    def unsigned_bodies(body: bytes, content_type: str) -> None:
        before = stored()
        response = Client().generic("POST", url, data=body, content_type=content_type)
        answered_safely(response, before)

    hostile()
    unsigned_bodies()
    assert send(notification(), as_json=False, signing="valid").content == b"success"


def dumps_any(value: Any) -> bytes:
    return json.dumps(value).encode("utf-8", "surrogatepass")


# -- WeChat: signed query, XML body -----------------------------------------------------------

wechat_fields = st.fixed_dictionaries(
    {
        "ToUserName": field(WECHAT_ORIGINAL_ID),
        "FromUserName": field("oX7kP0ZbQ1-wRc3dYt5uV8nM2sLa"),
        "CreateTime": field("1764380000", "9" * 5000),
        "MsgType": field("text", "image", "voice", "location", "link", "event", "video"),
    },
    optional={
        "Content": field("你好"),
        "MsgId": field("24871234567890123"),
        "Event": field("subscribe", "unsubscribe", "CLICK"),
        "MediaId": field("media-1"),
        "PicUrl": field("http://x/y.jpg"),
        "Recognition": field("我要挂失"),
        "Location_X": field("23.1"),
        "Location_Y": field("113.3"),
        "Url": field("https://example.cn"),
    },
)
wechat_bodies = st.one_of(
    st.builds(xml_document, wechat_fields, st.booleans()),
    st.integers(min_value=1, max_value=BODY_MAX_BYTES // 7).map(nested_xml),
    st.sampled_from(UNREADABLE_XML),
    st.binary(max_size=300),
)


def test_wechat_answers_any_message_without_a_server_error():
    webhook_endpoint("wechat-fuzz", "wechat", token=WECHAT_TOKEN, app_secret="s")
    nonces = itertools.count()

    def send(body: bytes, signing: str) -> HttpResponse:
        stamp, nonce = str(int(time.time())), f"fuzz{next(nonces)}"
        token = WECHAT_TOKEN if signing == "valid" else "not-the-token"
        query = {"signature": signature_of(token, stamp, nonce), "timestamp": stamp, "nonce": nonce}
        if signing == "none":
            query = {}
        response: HttpResponse = Client().post(
            f"/intake/wechat/wechat-fuzz/?{urlencode(query)}", data=body, content_type="text/xml"
        )
        return response

    @FUZZ
    @given(body=wechat_bodies, signing=signings)
    @example(body=nested_xml(BODY_MAX_BYTES // 8), signing="valid")
    def hostile(body: bytes, signing: str) -> None:
        before = stored()
        answered_safely(send(body, signing), before)

    hostile()
    good = xml_document(
        {
            "ToUserName": WECHAT_ORIGINAL_ID,
            "FromUserName": "oX7kP0ZbQ1-wRc3dYt5uV8nM2sLa",
            "CreateTime": "1764380000",
            "MsgType": "text",
            "Content": "你好",
            "MsgId": "fuzz-ok",
        },
        wrap_in_cdata=True,
    )
    assert send(good, "valid").status_code == 200


# -- the intake API's call records and branch reports -----------------------------------------

calls_shaped = st.fixed_dictionaries(
    {
        "call_id": field("C1"),
        "called": field("95588"),
        "started_at": field("2026-10-01T09:00:00+08:00"),
        "duration_seconds": st.integers() | json_values,
    },
    optional={"caller": field("13812345678"), "ivr_path": json_values, "agent": json_values},
)
visits_shaped = st.fixed_dictionaries(
    {"branch": field("fuzz-branch"), "text": field("存折无法补登")},
    optional={
        "customer_phone": field("13812345678"),
        "device_id": field("ATM-1"),
        "customer_id": st.integers() | json_values,
    },
)


def test_the_intake_api_answers_any_body_without_a_server_error(agent_api):
    branch_create(code="fuzz-branch", name="测试支行")

    @FUZZ
    @given(
        path_and_body=st.one_of(
            st.tuples(st.just("calls"), json_bodies(calls_shaped, max_bytes=200_000)),
            st.tuples(st.just("branch-visits"), json_bodies(visits_shaped, max_bytes=200_000)),
        )
    )
    @example(path_and_body=("branch-visits", DEEP_ARRAYS))
    def hostile(path_and_body: tuple[str, bytes]) -> None:
        path, body = path_and_body
        before = stored()
        response = agent_api.client.post(
            f"/api/v1/intake/{path}",
            data=body,
            content_type="application/json",
            headers=agent_api.headers,
        )
        answered_safely(response, before)

    hostile()
    visit = {"branch": "fuzz-branch", "text": "仍然可用"}
    assert agent_api.post("/intake/branch-visits", visit).status_code == 201
