"""Reading customers' e-mail: Chinese encodings, threading headers, loop and bounce guards."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest

from bankdesk.intake.channels.email.parse import (
    MIME_DEPTH_MAX,
    decode_bytes,
    email_parse,
    text_from_html,
)
from bankdesk.intake.errors import MalformedPayload

FIXTURES = Path(__file__).parent / "fixtures" / "email"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def mail(*headers: str, body: str = "您好，请问怎么办？", charset: str = "utf-8") -> bytes:
    head = "\r\n".join(headers)
    return (
        f"{head}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset={charset}\r\n"
        f"Content-Transfer-Encoding: 8bit\r\n\r\n"
    ).encode() + body.encode(charset if charset != "gb2312" else "gbk")


def test_a_gbk_encoded_chinese_subject_and_sender_name_are_read() -> None:
    inbound = email_parse(fixture("gbk_subject.eml"))

    assert inbound.channel == "email"
    assert inbound.external_id == "gbk-subject-0001@mail.example.cn"
    assert inbound.subject == "我的信用卡被盗刷了，请尽快处理"
    assert inbound.sender_name == "张三"
    assert (inbound.sender_kind, inbound.sender_value) == ("email", "zhangsan@example.cn")
    assert "境外被刷了三笔" in inbound.text
    assert not inbound.is_automatic


def test_big5_and_gb18030_bodies_are_read() -> None:
    big5 = email_parse(fixture("big5_body.eml"))
    gb18030 = email_parse(fixture("gb18030_body.eml"))

    assert big5.subject == "戶口被凍結"
    assert big5.text == "您好，我的戶口被凍結了，無法轉賬，請協助處理。謝謝！\n陳大文"
    assert gb18030.sender_name == "𠮷野"
    assert "名字里的𠮷字" in gb18030.text


def test_text_labelled_gb2312_with_gbk_characters_is_read_as_gb18030() -> None:
    # 镕 and 堃 are common in names but not in GB2312; mail programs still say "gb2312".
    subject = base64.b64encode("朱镕基 张堃".encode("gbk")).decode()
    raw = mail(
        "From: a@example.cn",
        f"Subject: =?gb2312?B?{subject}?=",
        "Message-ID: <x@example.cn>",
        body="镕堃的账户",
        charset="gb2312",
    )

    inbound = email_parse(raw)

    assert inbound.subject == "朱镕基 张堃"
    assert inbound.text == "镕堃的账户"


def test_raw_eight_bit_headers_are_read_as_utf8_or_gbk() -> None:
    utf8 = b"From: a@example.cn\r\nSubject: \xe8\xbd\xac\xe8\xb4\xa6\r\n\r\nbody"
    gbk = b"From: a@example.cn\r\nSubject: \xd7\xaa\xd5\xcb\r\n\r\nbody"

    assert email_parse(utf8).subject == "转账"
    assert email_parse(gbk).subject == "转账"


def test_a_wrong_byte_does_not_lose_the_message() -> None:
    assert decode_bytes("转账".encode() + b"\xff", "utf-8").startswith("转账")
    assert decode_bytes(b"abc", "no-such-charset") == "abc"


def test_html_only_mail_gives_text_and_keeps_the_html_for_sanitising() -> None:
    inbound = email_parse(fixture("html_only.eml"))

    assert inbound.text == "请帮我查询一笔转账。\n点击"
    assert "<script>" in inbound.html  # tickets.services sanitises before storing
    assert "alert" not in text_from_html(inbound.html)


def test_threading_headers_and_the_case_token() -> None:
    raw = mail(
        "From: a@example.cn",
        "Subject: =?UTF-8?B?"
        + base64.b64encode("回复：挂失 [C20260000123]".encode()).decode()
        + "?=",
        "Message-ID: <third@example.cn>",
        "In-Reply-To: <second@bank.example>",
        "References: <first@example.cn>\r\n <second@bank.example>",
    )

    inbound = email_parse(raw)

    assert inbound.case_number == "C20260000123"
    assert inbound.replies_to == ("second@bank.example", "first@example.cn")
    assert inbound.thread_id == "first@example.cn"


def test_a_mail_without_message_id_gets_a_stable_id_from_its_bytes() -> None:
    raw = mail("From: a@example.cn", "Subject: hi")

    assert email_parse(raw).external_id == "sha256:" + hashlib.sha256(raw).hexdigest()
    assert email_parse(raw).external_id == email_parse(raw).external_id


def test_an_attachment_keeps_its_chinese_name_and_bytes() -> None:
    inbound = email_parse(fixture("attachment.eml"))

    (attachment,) = inbound.attachments
    assert attachment.filename == "对账单.pdf"
    assert attachment.content_type == "application/pdf"
    assert attachment.content.startswith(b"%PDF-1.4")


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("out_of_office.eml", "auto_submitted"),
        ("bounce.eml", "report"),
        ("bulk.eml", "precedence"),
    ],
)
def test_automatic_mail_is_marked(name: str, reason: str) -> None:
    inbound = email_parse(fixture(name))

    assert inbound.is_automatic
    assert inbound.metadata["automatic_reason"] == reason


@pytest.mark.parametrize(
    ("header", "envelope_sender", "reason"),
    [
        ("Auto-Submitted: auto-generated", None, "auto_submitted"),
        ("X-Autoreply: yes", None, "autoreply"),
        ("Precedence: junk", None, "precedence"),
        ("Precedence: list", None, "precedence"),
        ("X-Mailer: x", "", "null_sender"),
        ("Return-Path: <>", None, "null_sender"),
    ],
)
def test_each_loop_guard(header: str, envelope_sender: str | None, reason: str) -> None:
    raw = mail("From: a@example.cn", "Message-ID: <g@example.cn>", header)

    inbound = email_parse(raw, envelope_sender=envelope_sender)

    assert inbound.is_automatic
    assert inbound.metadata["automatic_reason"] == reason


def test_auto_submitted_no_and_a_normal_envelope_are_a_person() -> None:
    raw = mail("From: a@example.cn", "Auto-Submitted: no")

    assert not email_parse(raw, envelope_sender="a@example.cn").is_automatic


def test_mailer_daemon_and_bankdesks_own_addresses_are_automatic() -> None:
    daemon = mail("From: MAILER-DAEMON@mx.example.cn")
    own = mail('From: "Bank" <Service@Bank.example>')

    assert email_parse(daemon).metadata["automatic_reason"] == "mailer_daemon"
    assert (
        email_parse(own, own_addresses=["service@bank.example"]).metadata["automatic_reason"]
        == "own_address"
    )


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"   \r\n",
        b"Subject: no sender\r\n\r\nhello",
        b"From: a@example.cn\r\n\r\n",
    ],
)
def test_malformed_mail_is_refused(raw: bytes) -> None:
    with pytest.raises(MalformedPayload):
        email_parse(raw)


def nested_parts(depth: int) -> bytes:
    head = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (level, level)
        for level in range(depth)
    )
    tail = b"".join(b"--b%d--\r\n" % level for level in reversed(range(depth)))
    leaf = "Content-Type: text/plain; charset=utf-8\r\n\r\n您好\r\n".encode()
    return head + leaf + tail


def test_parts_nested_as_mail_programs_nest_them_are_read() -> None:
    raw = b"From: a@example.cn\r\nMIME-Version: 1.0\r\n" + nested_parts(MIME_DEPTH_MAX - 1)

    assert email_parse(raw).text == "您好"


@pytest.mark.parametrize("depth", [MIME_DEPTH_MAX, 300, 5_000])
def test_parts_nested_past_the_limit_are_refused_even_inside_a_forwarded_mail(depth: int) -> None:
    direct = b"From: a@example.cn\r\nMIME-Version: 1.0\r\n" + nested_parts(depth)
    forwarded = (
        b'From: a@example.cn\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="t"'
        b"\r\n\r\n--t\r\nContent-Type: message/rfc822\r\n\r\nFrom: b@example.cn\r\n"
        + nested_parts(depth)
        + b"--t--\r\n"
    )
    for raw in (direct, forwarded):
        with pytest.raises(MalformedPayload) as refused:
            email_parse(raw)
        assert refused.value.field == "message"


def test_a_subject_only_mail_still_reaches_the_bank() -> None:
    raw = b"From: a@example.cn\r\nSubject: card lost\r\n\r\n"

    assert email_parse(raw).text == "card lost"
