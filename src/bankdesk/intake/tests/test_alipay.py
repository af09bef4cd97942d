"""Alipay life account: RSA2-signed notifications in, signed customer-service messages out."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import Client

from bankdesk.customers.models import Customer, Identity
from bankdesk.intake.channels.alipay.adapter import METHOD, RESPONSE_KEY
from bankdesk.intake.channels.alipay.signing import rsa2_sign, rsa2_verify, sign_content
from bankdesk.intake.choices import OutboxStatus
from bankdesk.intake.models import ChannelEndpoint
from bankdesk.intake.outbox import outbox_deliver
from bankdesk.intake.services import case_reply
from bankdesk.staff.models import User
from bankdesk.tickets.models import Case, Message

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures" / "alipay"
APP_ID = "2021004123456789"
USER_ID = "2088102012345678"
URL = "/intake/alipay/bank-alipay/"


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def private_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@pytest.fixture(scope="module")
def alipay_key() -> rsa.RSAPrivateKey:
    """Alipay's own key, which signs its notifications."""
    return new_key()


@pytest.fixture(scope="module")
def bank_key() -> rsa.RSAPrivateKey:
    """The bank's key, which signs its calls to Alipay's gateway."""
    return new_key()


@pytest.fixture
def endpoint(alipay_key: rsa.RSAPrivateKey, bank_key: rsa.RSAPrivateKey) -> ChannelEndpoint:
    return ChannelEndpoint.objects.create(
        code="bank-alipay",
        channel="alipay",
        name="银行支付宝生活号",
        settings={"app_id": APP_ID, "gateway": "http://127.0.0.1:9/gateway.do"},
        secrets=json.dumps(
            {"alipay_public_key": public_pem(alipay_key), "private_key": private_pem(bank_key)}
        ),
    )


def notification(name: str = "text_message.json", **changes: str) -> dict[str, str]:
    params: dict[str, str] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    params.update(changes)
    return params


def signed(params: dict[str, str], key: rsa.RSAPrivateKey) -> dict[str, str]:
    return {**params, "sign": rsa2_sign(params, key)}


def post_form(params: dict[str, str], url: str = URL) -> Any:
    return Client().post(
        url, data=urlencode(params), content_type="application/x-www-form-urlencoded"
    )


def post_json(params: dict[str, str], url: str = URL) -> Any:
    return Client().post(url, data=json.dumps(params), content_type="application/json")


def stored() -> tuple[int, int, int]:
    return Case.objects.count(), Message.objects.count(), Customer.objects.count()


# -- signatures -------------------------------------------------------------------------------


def test_the_signed_string_is_sorted_without_sign_sign_type_or_empty_values() -> None:
    params = {"b": "2", "a": "1", "sign": "x", "sign_type": "RSA2", "empty": "", "c": "三"}

    assert sign_content(params) == "a=1&b=2&c=三"


def test_a_signature_verifies_only_with_the_signers_key(
    alipay_key: rsa.RSAPrivateKey, bank_key: rsa.RSAPrivateKey
) -> None:
    params = signed({"a": "1", "b": "二"}, alipay_key)

    assert rsa2_verify(params, alipay_key.public_key())
    assert not rsa2_verify(params, bank_key.public_key())
    assert not rsa2_verify({**params, "b": "三"}, alipay_key.public_key())
    assert not rsa2_verify({**params, "sign": "not base64!"}, alipay_key.public_key())


# -- notifications ----------------------------------------------------------------------------


@pytest.mark.parametrize("post", [post_form, post_json], ids=["form", "json"])
def test_a_signed_message_opens_a_case_and_is_answered_success(
    endpoint: ChannelEndpoint, alipay_key: rsa.RSAPrivateKey, post: Any
) -> None:
    response = post(signed(notification(), alipay_key))

    assert response.status_code == 200
    assert response.content == b"success"
    message = Message.objects.get()
    assert message.channel == "alipay"
    assert message.external_id == "a1b2c3d4e5f60718"
    assert message.text == "我的花呗还款扣款失败了，怎么办？"
    identity = Identity.objects.get()
    assert identity.kind == "alipay_user_id"
    assert message.case.customer_id == identity.customer_id


@pytest.mark.parametrize(
    "forge",
    [
        "wrong-key",
        "tampered",
        "no-sign",
        "rsa1",
    ],
)
def test_a_notification_not_signed_by_alipay_is_refused_and_nothing_is_stored(
    endpoint: ChannelEndpoint,
    alipay_key: rsa.RSAPrivateKey,
    bank_key: rsa.RSAPrivateKey,
    forge: str,
) -> None:
    params = signed(notification(), alipay_key)
    if forge == "wrong-key":
        params = signed(notification(), bank_key)
    elif forge == "tampered":
        params["biz_content"] = params["biz_content"].replace("花呗", "借呗")
    elif forge == "no-sign":
        del params["sign"]
    elif forge == "rsa1":
        params["sign_type"] = "RSA"

    response = post_form(params)

    assert response.status_code == 403
    assert response.json()["code"] == "bad_signature"
    assert stored() == (0, 0, 0)


def test_the_same_message_twice_is_one_message(
    endpoint: ChannelEndpoint, alipay_key: rsa.RSAPrivateKey
) -> None:
    params = signed(notification(), alipay_key)

    assert post_form(params).content == b"success"
    assert post_form(params).content == b"success"
    assert Message.objects.count() == 1


def test_a_second_message_continues_the_same_case(
    endpoint: ChannelEndpoint, alipay_key: rsa.RSAPrivateKey
) -> None:
    post_form(signed(notification(), alipay_key))
    biz = json.loads(notification()["biz_content"])
    biz.update(msg_id="a1b2c3d4e5f60719", content="还有，能不能免除滞纳金？")
    post_form(signed(notification(biz_content=json.dumps(biz, ensure_ascii=False)), alipay_key))

    assert Case.objects.get().messages.count() == 2
    assert Customer.objects.count() == 1


def test_a_follow_event_is_acknowledged_without_a_case(
    endpoint: ChannelEndpoint, alipay_key: rsa.RSAPrivateKey
) -> None:
    response = post_form(signed(notification("follow_event.json"), alipay_key))

    assert response.content == b"success"
    assert stored() == (0, 0, 0)


@pytest.mark.parametrize(
    "biz_content", ["not json", "[]", json.dumps({"msg_type": "text", "content": "无编号"})]
)
def test_an_unreadable_signed_notification_is_refused_and_nothing_is_stored(
    endpoint: ChannelEndpoint, alipay_key: rsa.RSAPrivateKey, biz_content: str
) -> None:
    response = post_form(signed(notification(biz_content=biz_content), alipay_key))

    assert response.status_code == 400
    assert stored() == (0, 0, 0)


def test_a_body_that_is_not_json_is_refused(endpoint: ChannelEndpoint) -> None:
    response = Client().post(URL, data=b"{not json", content_type="application/json")

    assert response.status_code == 400
    assert stored() == (0, 0, 0)


@pytest.mark.parametrize("body", [b"[" * 60_000, b'{"a":' * 12_000], ids=["arrays", "objects"])
def test_deeply_nested_json_is_refused_before_the_signature_and_alipay_keeps_being_served(
    endpoint: ChannelEndpoint, alipay_key: rsa.RSAPrivateKey, body: bytes
) -> None:
    response = Client().post(URL, data=body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "malformed_payload"
    assert stored() == (0, 0, 0)
    assert post_form(signed(notification(), alipay_key)).content == b"success"


def test_deeply_nested_biz_content_in_a_signed_notification_is_refused(
    endpoint: ChannelEndpoint, alipay_key: rsa.RSAPrivateKey
) -> None:
    nested = "[" * 8_000 + "]" * 8_000
    response = post_form(signed(notification(biz_content=nested), alipay_key))

    assert response.status_code == 400
    assert response.json()["field"] == "biz_content"
    assert stored() == (0, 0, 0)


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"content": "挂失\u0000"}, "text"), ({"from_user_id": "2088\u0000"}, "sender_value")],
)
def test_a_signed_message_holding_a_nul_is_refused_by_name_and_nothing_is_stored(
    endpoint: ChannelEndpoint, alipay_key: rsa.RSAPrivateKey, changes: dict[str, str], field: str
) -> None:
    biz = json.loads(notification()["biz_content"]) | changes
    params = signed(notification(biz_content=json.dumps(biz)), alipay_key)

    response = post_form(params)

    assert response.status_code == 400
    assert response.json()["field"] == field
    assert stored() == (0, 0, 0)


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded; charset=gbk", "内容=挂失".encode("gbk")),
        ("application/x-www-form-urlencoded", b"&n=1" * 2_000),
        ("multipart/form-data", b"no boundary"),
        ("application/json; charset=gbk", '{"内容": "挂失"}'.encode("gbk")),
    ],
    ids=["form-not-utf-8", "too-many-fields", "broken-multipart", "json-not-utf-8"],
)
def test_a_body_that_cannot_be_read_is_refused_in_the_error_contract(
    endpoint: ChannelEndpoint, content_type: str, body: bytes
) -> None:
    response = Client().generic("POST", URL, data=body, content_type=content_type)

    assert response.status_code == 400
    assert response.json()["code"] == "malformed_payload"
    assert stored() == (0, 0, 0)


def test_a_notification_for_another_app_is_refused(
    endpoint: ChannelEndpoint, alipay_key: rsa.RSAPrivateKey
) -> None:
    response = post_form(signed(notification(app_id="2021000000000000"), alipay_key))

    assert response.status_code == 400
    assert stored() == (0, 0, 0)


def test_an_unknown_endpoint_is_not_found(alipay_key: rsa.RSAPrivateKey) -> None:
    assert post_form(signed(notification(), alipay_key)).status_code == 404


def test_an_endpoint_without_alipays_key_is_not_configured(
    alipay_key: rsa.RSAPrivateKey,
) -> None:
    ChannelEndpoint.objects.create(code="bank-alipay", channel="alipay", name="未配置")

    response = post_form(signed(notification(), alipay_key))

    assert response.status_code == 503
    assert stored() == (0, 0, 0)


# -- replies ----------------------------------------------------------------------------------


class FakeGateway:
    """Alipay's gateway: checks the bank's RSA2 signature, then takes the message."""

    def __init__(self, bank_public_key: rsa.RSAPublicKey) -> None:
        self.bank_public_key = bank_public_key
        self.received: list[dict[str, str]] = []
        self.answers: list[dict[str, str]] = []

    def answer(self, params: dict[str, str]) -> dict[str, Any]:
        if not rsa2_verify(params, self.bank_public_key):
            node = {
                "code": "40002",
                "msg": "Invalid Arguments",
                "sub_code": "isv.invalid-signature",
            }
        elif self.answers:
            node = self.answers.pop(0)
        else:
            self.received.append(params)
            node = {"code": "10000", "msg": "Success", "msg_id": f"ali-{len(self.received)}"}
        return {RESPONSE_KEY: node, "sign": "not-checked-by-bankdesk-yet"}


@pytest.fixture
def gateway(bank_key: rsa.RSAPrivateKey, endpoint: ChannelEndpoint) -> Iterator[FakeGateway]:
    fake = FakeGateway(bank_key.public_key())

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers["Content-Length"])).decode()
            body = json.dumps(fake.answer(dict(parse_qsl(raw)))).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json;charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    endpoint.settings["gateway"] = f"http://127.0.0.1:{server.server_address[1]}/gateway.do"
    endpoint.save()
    yield fake
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def alipay_case(endpoint: ChannelEndpoint, alipay_key: rsa.RSAPrivateKey) -> Case:
    assert post_form(signed(notification(), alipay_key)).status_code == 200
    return Case.objects.get()


def test_a_reply_goes_out_signed_with_the_banks_key(
    gateway: FakeGateway, alipay_case: Case, agent: User
) -> None:
    _, item = case_reply(case=alipay_case, text="您好，已为您重新发起扣款。", actor=agent)
    assert item is not None

    assert outbox_deliver().sent == 1

    (params,) = gateway.received
    assert params["method"] == METHOD
    assert params["app_id"] == APP_ID
    assert params["sign_type"] == "RSA2"
    biz = json.loads(params["biz_content"])
    assert biz["to_user_id"] == USER_ID
    assert biz["text"]["content"] == "您好，已为您重新发起扣款。"
    assert biz["out_biz_no"] == item.idempotency_key
    item.refresh_from_db()
    assert item.status == OutboxStatus.SENT
    assert item.provider_message_id == "ali-1"


def test_a_reply_signed_with_the_wrong_key_is_refused_for_good(
    gateway: FakeGateway, alipay_case: Case, agent: User, endpoint: ChannelEndpoint
) -> None:
    endpoint.secrets = json.dumps(
        {**json.loads(endpoint.secrets), "private_key": private_pem(new_key())}
    )
    endpoint.save()
    _, item = case_reply(case=alipay_case, text="签名错误", actor=agent)
    assert item is not None

    assert outbox_deliver().dead == 1
    item.refresh_from_db()
    assert "invalid-signature" in item.last_error
    assert gateway.received == []


def test_an_unavailable_gateway_is_retried(
    gateway: FakeGateway, alipay_case: Case, agent: User
) -> None:
    gateway.answers = [{"code": "20000", "msg": "Service Currently Unavailable"}]
    case_reply(case=alipay_case, text="稍后再试", actor=agent)

    assert outbox_deliver().retrying == 1
    assert gateway.received == []


def test_an_oversized_notification_is_refused(
    endpoint: ChannelEndpoint, alipay_key: rsa.RSAPrivateKey
) -> None:
    params = signed(notification(padding="x" * 70_000), alipay_key)

    assert post_form(params).status_code == 400
    assert stored() == (0, 0, 0)
