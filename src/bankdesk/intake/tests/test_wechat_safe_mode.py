"""WeChat's safe (encrypted) mode: messages sealed with the account's EncodingAESKey come in,
are opened only when their msg_signature covers what was sealed, and are answered sealed.

The sealing here is written from WeChat's published description of the scheme, separately from
bankdesk's own, so the two check each other; the known-answer test uses the sample that
WeChat's message-encryption guide publishes, whose signature and plaintext were checked by hand.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import os
import struct
import time
from urllib.parse import urlencode

import pytest
import time_machine
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from defusedxml.ElementTree import fromstring
from django.test import Client

from bankdesk.intake.channels.wechat.crypto import MessageCipher, message_signature
from bankdesk.intake.models import ChannelEndpoint
from bankdesk.intake.tests.test_wechat_webhook import (
    OPENID,
    ORIGINAL_ID,
    TOKEN,
    fixture,
    reply_fields,
    stored,
)
from bankdesk.tickets.models import Case, Message

pytestmark = pytest.mark.django_db

APP_ID = "wx1234567890abcdef"
AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"  # 43 characters, as WeChat issues them
NONCES = itertools.count(5100)

# WeChat's own sample from its message-encryption guide.
SAMPLE_TOKEN = "spamtest"
SAMPLE_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
SAMPLE_APP_ID = "wx2c2769f8efd9abc2"
SAMPLE_TIMESTAMP = "1409735669"
SAMPLE_NONCE = "1320562132"
SAMPLE_MSG_SIGNATURE = "5d197aaffba7e9b25a30732f161a50dee96bd5fa"
SAMPLE_ENCRYPT = (
    "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PG"
    "HQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h"
    "6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tC"
    "Op3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvn"
    "hvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE="
)
SAMPLE_PLAINTEXT = (
    "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>\n"
    "<FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName>\n"
    "<CreateTime>1409735668</CreateTime>\n"
    "<MsgType><![CDATA[text]]></MsgType>\n"
    "<Content><![CDATA[abcdteT]]></Content>\n"
    "<MsgId>6054768590064713728</MsgId>\n"
    "</xml>"
)


# -- the scheme, as WeChat's guide describes it -----------------------------------------------


def _key(encoding_aes_key: str) -> bytes:
    return base64.b64decode(encoding_aes_key + "=")


def seal(plaintext: bytes, *, encoding_aes_key: str = AES_KEY, app_id: str = APP_ID) -> str:
    """16 random bytes, the length (4 bytes, network order), the XML, the AppId; PKCS#7 to a
    multiple of 32; AES-256-CBC with the key's first 16 bytes as IV; base64."""
    key = _key(encoding_aes_key)
    block = os.urandom(16) + struct.pack("!I", len(plaintext)) + plaintext + app_id.encode()
    pad = 32 - len(block) % 32
    block += bytes([pad]) * pad
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(block) + encryptor.finalize()).decode()


def unseal(encrypt: str, *, encoding_aes_key: str = AES_KEY) -> tuple[bytes, str]:
    key = _key(encoding_aes_key)
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    block = decryptor.update(base64.b64decode(encrypt)) + decryptor.finalize()
    block = block[: -block[-1]]
    (length,) = struct.unpack("!I", block[16:20])
    return block[20 : 20 + length], block[20 + length :].decode()


def sign(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()  # noqa: S324 - WeChat's


def envelope(encrypt: str, to_user: str = ORIGINAL_ID) -> bytes:
    return (
        f"<xml><ToUserName><![CDATA[{to_user}]]></ToUserName>"
        f"<Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
    ).encode()


def post_sealed(
    plaintext: bytes,
    *,
    token: str = TOKEN,
    timestamp: str | None = None,
    msg_signature: str | None = None,
    encrypt: str | None = None,
    to_user: str = ORIGINAL_ID,
    url: str = "/intake/wechat/",
) -> object:
    stamp = timestamp or str(int(time.time()))
    nonce = str(next(NONCES))
    encrypt = encrypt or seal(plaintext)
    query = {
        "signature": sign(token, stamp, nonce),
        "timestamp": stamp,
        "nonce": nonce,
        "openid": OPENID,
        "encrypt_type": "aes",
        "msg_signature": msg_signature or sign(token, stamp, nonce, encrypt),
    }
    return Client().post(
        f"{url}?{urlencode(query)}", data=envelope(encrypt, to_user), content_type="text/xml"
    )


def opened_reply(response: object, *, token: str = TOKEN) -> dict[str, str]:
    """The sealed passive reply, its signature checked and its XML opened."""
    assert response["Content-Type"].startswith("application/xml")
    outer = {child.tag: child.text or "" for child in fromstring(response.content)}
    assert outer["MsgSignature"] == sign(
        token, outer["TimeStamp"], outer["Nonce"], outer["Encrypt"]
    )
    plaintext, app_id = unseal(outer["Encrypt"])
    assert app_id == APP_ID
    return {child.tag: child.text or "" for child in fromstring(plaintext)}


def endpoint_in(mode: str) -> ChannelEndpoint:
    return ChannelEndpoint.objects.create(
        code="bank-wechat",
        channel="wechat",
        name="银行微信公众号",
        settings={"app_id": APP_ID, "original_id": ORIGINAL_ID, "encrypt_mode": mode},
        secrets=json.dumps(
            {"token": TOKEN, "app_secret": "app-secret", "encoding_aes_key": AES_KEY}
        ),
    )


# -- safe mode --------------------------------------------------------------------------------


def test_a_sealed_message_is_opened_put_on_a_case_and_answered_sealed() -> None:
    endpoint_in("safe")

    response = post_sealed(fixture("text.xml"))

    assert response.status_code == 200
    reply = opened_reply(response)
    case = Case.objects.get()
    assert reply["ToUserName"] == OPENID and reply["FromUserName"] == ORIGINAL_ID
    assert f"工单号 {case.number}" in reply["Content"]
    message = Message.objects.get()
    assert message.text == "你好，我的信用卡被扣了年费，请帮我查一下。"
    assert message.external_id == "24871234567890123"


def test_a_bad_msg_signature_is_refused_and_nothing_is_stored() -> None:
    endpoint_in("safe")
    sealed = seal(fixture("text.xml"))

    response = post_sealed(fixture("text.xml"), encrypt=sealed, msg_signature=sign("x", sealed))

    assert response.status_code == 403
    assert response.json()["code"] == "bad_signature"
    assert stored() == (0, 0, 0)


def test_a_body_swapped_under_a_valid_plain_signature_is_refused() -> None:
    # The signature of the URL is still valid; msg_signature was made for another sealed body.
    endpoint_in("safe")
    stamp, nonce = str(int(time.time())), "777"
    genuine = seal(fixture("text.xml"))
    forged = seal(fixture("text.xml").replace(b"24871234567890123", b"24871234567890666"))
    query = urlencode(
        {
            "signature": sign(TOKEN, stamp, nonce),
            "timestamp": stamp,
            "nonce": nonce,
            "encrypt_type": "aes",
            "msg_signature": sign(TOKEN, stamp, nonce, genuine),
        }
    )

    response = Client().post(f"/intake/wechat/?{query}", envelope(forged), "text/xml")

    assert response.status_code == 403
    assert stored() == (0, 0, 0)


def test_a_message_sealed_for_another_app_is_refused() -> None:
    endpoint_in("safe")
    sealed = seal(fixture("text.xml"), app_id="wx0000000000000000")

    assert post_sealed(fixture("text.xml"), encrypt=sealed).status_code == 403
    assert stored() == (0, 0, 0)


def test_a_plaintext_call_to_a_safe_mode_account_is_refused() -> None:
    endpoint_in("safe")
    stamp, nonce = str(int(time.time())), "778"
    query = urlencode({"signature": sign(TOKEN, stamp, nonce), "timestamp": stamp, "nonce": nonce})

    response = Client().post(f"/intake/wechat/?{query}", fixture("text.xml"), "text/xml")

    assert response.status_code == 403
    assert stored() == (0, 0, 0)


def test_an_event_in_safe_mode_is_answered_sealed() -> None:
    endpoint_in("safe")

    response = post_sealed(fixture("subscribe.xml"))

    assert response.status_code == 200
    assert "欢迎" in opened_reply(response)["Content"]
    assert stored() == (0, 0, 0)


def test_a_safe_mode_account_without_its_key_says_it_is_not_configured() -> None:
    endpoint = endpoint_in("safe")
    endpoint.secrets = json.dumps({"token": TOKEN, "encoding_aes_key": "too-short"})
    endpoint.save()

    response = post_sealed(fixture("text.xml"))

    assert response.status_code == 503
    assert response.json()["code"] == "channel_not_configured"


# -- compatible mode: both, while an account moves over ---------------------------------------


def test_compatible_mode_takes_plaintext_and_sealed_calls_alike() -> None:
    endpoint_in("compatible")
    stamp, nonce = str(int(time.time())), "779"
    query = urlencode({"signature": sign(TOKEN, stamp, nonce), "timestamp": stamp, "nonce": nonce})
    plain = Client().post(f"/intake/wechat/?{query}", fixture("text.xml"), "text/xml")

    sealed = post_sealed(fixture("image.xml"))

    assert plain.status_code == sealed.status_code == 200
    assert "工单号" in reply_fields(plain)["Content"]
    assert "工单号" in opened_reply(sealed)["Content"]
    assert Message.objects.count() == 2


# -- WeChat's published sample ----------------------------------------------------------------


def test_wechats_published_sample_verifies_and_opens() -> None:
    cipher = MessageCipher(encoding_aes_key=SAMPLE_KEY, app_id=SAMPLE_APP_ID)

    signature = message_signature(SAMPLE_TOKEN, SAMPLE_TIMESTAMP, SAMPLE_NONCE, SAMPLE_ENCRYPT)

    assert signature == SAMPLE_MSG_SIGNATURE
    assert cipher.open(SAMPLE_ENCRYPT).decode() == SAMPLE_PLAINTEXT


def test_wechats_published_sample_is_taken_at_the_server_url() -> None:
    ChannelEndpoint.objects.create(
        code="sample",
        channel="wechat",
        name="示例公众号",
        settings={
            "app_id": SAMPLE_APP_ID,
            "original_id": "gh_10f6c3c3ac5a",
            "encrypt_mode": "safe",
        },
        secrets=json.dumps({"token": SAMPLE_TOKEN, "encoding_aes_key": SAMPLE_KEY}),
    )
    query = urlencode(
        {
            "signature": sign(SAMPLE_TOKEN, SAMPLE_TIMESTAMP, SAMPLE_NONCE),
            "timestamp": SAMPLE_TIMESTAMP,
            "nonce": SAMPLE_NONCE,
            "encrypt_type": "aes",
            "msg_signature": SAMPLE_MSG_SIGNATURE,
        }
    )

    with time_machine.travel(int(SAMPLE_TIMESTAMP) + 1, tick=False):
        response = Client().post(
            f"/intake/wechat/sample/?{query}",
            envelope(SAMPLE_ENCRYPT, "gh_10f6c3c3ac5a"),
            "text/xml",
        )

    assert response.status_code == 200
    assert Message.objects.get().external_id == "6054768590064713728"
    outer = {child.tag: child.text or "" for child in fromstring(response.content)}
    plaintext, app_id = unseal(outer["Encrypt"], encoding_aes_key=SAMPLE_KEY)
    assert app_id == SAMPLE_APP_ID
    assert b"oyORnuP8q7ou2gfYjqLzSIWZf0rs" in plaintext
