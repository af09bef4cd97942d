"""Masking: what a role may see of personal data, and authentication data never kept at all."""

from __future__ import annotations

import re

MASK = "*"


def mask_phone(value: str) -> str:
    """Phones: the last 4 digits only."""
    digits = re.sub(r"\D", "", value)
    return MASK * max(len(digits) - 4, 3) + digits[-4:]


def mask_email(value: str) -> str:
    """E-mail: the first letter and the domain."""
    local, at, domain = value.partition("@")
    if not at:
        return MASK * 3
    return f"{local[:1]}{MASK * 3}@{domain}"


def mask_national_id(value: str) -> str:
    """ID numbers: the first and the last character."""
    if len(value) <= 2:
        return MASK * len(value)
    return value[0] + MASK * (len(value) - 2) + value[-1]


def mask_card(value: str) -> str:
    """Cards: at most the first 6 and the last 4 digits."""
    digits = re.sub(r"\D", "", value)
    if len(digits) < 13:
        return MASK * max(len(digits) - 4, 3) + digits[-4:]
    return digits[:6] + MASK * (len(digits) - 10) + digits[-4:]


def mask_reference(value: str) -> str:
    """Core-system references: the last 4 characters."""
    return MASK * max(len(value) - 4, 3) + value[-4:]


def mask_identifier(value: str) -> str:
    """Opaque identifiers (openid, Alipay id): the first 3 and last 3 characters."""
    if len(value) <= 8:
        return MASK * len(value)
    return value[:3] + MASK * 6 + value[-3:]


# --- authentication data in free text -------------------------------------------------------

_CARD_CANDIDATE = re.compile(r"(?<![0-9])(?:[0-9][ -]?){12,18}[0-9](?![0-9])")
_CARD_WORDS = (
    r"(?:cvv2?|cvc2?|cid|security code|card code|安全码|安全碼|校验码|校驗碼|验证码|驗證碼"
    r"|卡背后三位|卡背三位|后三位|後三位)"
)
_CVV = re.compile(rf"({_CARD_WORDS})(\s*(?:is|是|为|為|:|：|=)?\s*)([0-9]{{3,4}})(?![0-9])", re.I)
_SIGN_IN_CODE_WORDS = (
    r"(?:password|passcode|pin|passwd|pwd|密码|密碼|口令|交易密码|交易密碼|登录密码|登錄密碼"
    r"|查询密码|查詢密碼)"
)
_PASSWORD = re.compile(
    rf"({_SIGN_IN_CODE_WORDS})(\s*(?:is|是|为|為|:|：|=|是不是)?\s*)([^\s，。,.;；!！?？]{{3,64}})",
    re.I,
)


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _mask_card_match(match: re.Match[str]) -> str:
    raw = match.group(0)
    digits = re.sub(r"\D", "", raw)
    if not 13 <= len(digits) <= 19 or not luhn_valid(digits):
        return raw
    return mask_card(digits)


def _looks_secret(separator: str, value: str) -> bool:
    """After a sign-in word, is this the secret itself? Yes when given explicitly
    ("密码：…", "pin=…"), or when it looks like one: digits, symbols, or mixed case. Ordinary
    words are kept: "PIN for my new card", "my PIN is blocked", "密码是不是错了"."""
    if separator.strip() in {":", "：", "="}:
        return True
    if any(c.isdigit() for c in value):
        return True
    if any(not c.isalnum() for c in value):
        return True
    return any(c.isupper() for c in value[1:]) and any(c.islower() for c in value)


def _mask_password_match(match: re.Match[str]) -> str:
    if not _looks_secret(match.group(2), match.group(3)):
        return match.group(0)
    return match.group(1) + match.group(2) + MASK * 6


def redact_authentication_data(text: str) -> str:
    """Mask card numbers (Luhn-valid, 13–19 digits), CVV-like codes and passwords in free text.

    The full values never reach storage, search indexes or logs: PFI class C3 is not kept.
    """
    if not text:
        return text
    text = _CARD_CANDIDATE.sub(_mask_card_match, text)
    text = _CVV.sub(lambda m: m.group(1) + m.group(2) + MASK * len(m.group(3)), text)
    text = _PASSWORD.sub(_mask_password_match, text)
    return text
