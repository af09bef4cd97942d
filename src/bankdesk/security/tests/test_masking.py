"""Masking rules, and authentication data that must never be kept."""

from __future__ import annotations

import pytest

from bankdesk.lib.masking import mask_card, mask_email, mask_national_id, mask_phone
from bankdesk.lib.redaction import redact_authentication_data


def test_masks_show_only_what_the_rules_allow():
    assert mask_phone("+8613812345678") == "*********5678"
    assert mask_email("wang.xm@example.cn") == "w***@example.cn"
    assert mask_national_id("11010519491231002X") == "1****************X"
    assert mask_card("6222021234567890123") == "***************0123"


@pytest.mark.parametrize(
    ("text", "hidden", "kept"),
    [
        ("我的卡号是6222 0212 3456 7890 128，请查一下", "6222 0212 3456 7890 128", "*0128"),
        ("card 4111-1111-1111-1111 was declined", "4111-1111-1111-1111", "************1111"),
        ("CVV 123, exp 12/29", "CVV 123", "CVV ***"),
        ("卡背后三位是 456", "456", "卡背后三位是 ***"),
        ("安全码：789", "789", "安全码：***"),
        ("my password is Hunter2!x please reset", "Hunter2!x", "password is ******"),
        ("登录密码是abc12345，忘了", "abc12345", "登录密码是******"),
        ("交易密碼：654321", "654321", "交易密碼：******"),
        ("my pin is 4321", "4321", "pin is ******"),
        ("password: sunshine", "sunshine", "password: ******"),
        ("密码 xY&kq#Z", "xY&kq#Z", "密码 ******"),
    ],
)
def test_authentication_data_is_masked_in_free_text(text, hidden, kept):
    redacted = redact_authentication_data(text)
    assert hidden not in redacted
    assert kept in redacted


@pytest.mark.parametrize(
    "text",
    [
        "订单号 2026112800012346 已受理",  # 16 digits, not Luhn-valid: an order number, kept
        "请拨打 95588 或 13812345678",
        "转账 1,234,567.89 元",
        # Words after a sign-in word that are not the secret.
        "I want to set a new PIN for my card",
        "my PIN is blocked after three tries",
        "密码是不是错了",
        "登录密码忘了怎么办",
    ],
)
def test_ordinary_numbers_are_left_alone(text):
    assert redact_authentication_data(text) == text
