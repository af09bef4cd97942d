"""Identifiers typed into free text, masked both ways: what must go, in real-looking Chinese
and English bank messages, and what must stay (amounts, dates, references, case numbers)."""

from __future__ import annotations

import pytest

from bankdesk.lib.redaction import redact_authentication_data, redact_personal_data


@pytest.mark.parametrize(
    ("text", "typed", "shown"),
    [
        # Mainland mobiles and fixed lines, with and without +86 and separators.
        ("您好，我的手机是13812345678，麻烦回电", "13812345678", "*******5678"),
        ("请联系 138 1234 5678 或 138-1234-5678", "1234 5678", "*******5678"),
        ("call me on +86 139 0000 1111 after 6pm", "0000 1111", "1111"),
        ("座机 010-62345678，深圳分行 0755-2345 6789", "62345678", "*******5678"),
        ("(021)87654321 是我家里电话", "87654321", "*******4321"),
        # Hong Kong, Macau and Taiwan.
        ("My HK number is +852 9123 4567", "9123 4567", "*******4567"),
        ("(852) 6123-4567 is my mobile", "6123-4567", "*******4567"),
        ("澳門電話 +853 6612 3456", "6612 3456", "*******3456"),
        ("台灣手機 0912-345-678，市話 02-2345-6789", "0912-345-678", "******5678"),
        ("WhatsApp +886 912 345 678", "912 345 678", "********5678"),
        ("手機 9123 4567 隨時找我", "9123 4567", "****4567"),
        # ID numbers: 18 with X, 15 old, Hong Kong, Macau, Taiwan, passports said as such.
        ("身份证号11010519491231002X，姓名王小明", "11010519491231002X", "1****************X"),
        ("身份证 110105 19491231 002X", "19491231", "1****************X"),
        ("老身份证 110105491231002 还能用吗", "110105491231002", "1*************2"),
        ("HKID A123456(7) lost", "A123456(7)", "A******7"),
        ("澳門身份證 1234567(8)", "1234567(8)", "1******8"),
        ("台灣身分證 A123456789", "A123456789", "A********9"),
        ("护照号码 E12345678，下月过期", "E12345678", "E*******8"),
        ("my passport no. is G12345678", "G12345678", "G*******8"),
        # E-mail addresses, QQ mail too.
        ("请发到 li.lei1990@example.com 谢谢", "li.lei1990", "l***@example.com"),
        ("邮箱 13812345678@163.com", "13812345678", "1***@163.com"),
        # Card and account numbers, Luhn-valid or not.
        ("卡号6222021234567891被冻结", "6222021234567891", "************7891"),
        ("card 4111 1111 1111 1111 declined", "4111 1111 1111", "************1111"),
        ("账号 6217 0012 3456 7893 123", "6217 0012 3456", "***************3123"),
    ],
)
def test_a_typed_identifier_is_masked_to_what_the_rules_show(text, typed, shown):
    masked = redact_personal_data(text)

    assert typed not in masked
    assert shown in masked
    assert redact_personal_data(masked) == masked  # masking masked text changes nothing


@pytest.mark.parametrize(
    "text",
    [
        "转账 1,234,567.89 元，手续费 ¥25.00",
        "I was charged $1,250.00 twice on 15 March 2026 at 09:30",
        "2026年3月15日 14:30 在 ATM 取款 2000 元失败",
        "工单号 C20260000123 还没有回复 [C20260000123]",
        "请拨打 95588 或 400-820-8888 咨询",
        "电话 95588 一直占线",
        "交易流水号：2026031512345678901，请帮我查一下",
        "订单号 2026112800012346 已受理",
        "reference 20260315093000123456 for the wire",
        "transaction id: 123456789012",
        "order number 1234567890123456 was refunded",
        "TXN20260315001 失败，参考号 AB1234567",
        "15 USC 1681623 ( a ) of FCRA",
        "My PIN can't access my card and PIN-based payments fail",
        "输完密码提示“发卡行拒绝交易”，密码错误次数超限",
        "For topping-up is there a charge? second opinion/appraisal",
        "I have 3 cards and 2 accounts, card ending 1234",
        "身份证丢了怎么办，passport renewal takes 10 days",
    ],
)
def test_ordinary_bank_words_and_numbers_are_left_alone(text):
    assert redact_personal_data(text) == text


def test_a_staff_reply_keeps_the_banks_phones_and_addresses_but_no_card_or_id():
    reply = (
        "请致电分行 021-62345678 或发邮件至 service@bank.example.cn；"
        "您的卡 6222021234567891 已冻结，身份证 11010519491231002X 已核实"
    )

    kept = redact_authentication_data(reply)

    assert "021-62345678" in kept and "service@bank.example.cn" in kept
    assert "6222021234567891" not in kept and "11010519491231002X" not in kept
