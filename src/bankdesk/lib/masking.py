"""Masking: how much of an identifier anyone may see, and the checks that recognise one.

The bank's rule (DESIGN.md, data protection): card numbers show at most the last 4 digits, ID
numbers the first 1 and last 1, phones the last 4. Free text is masked with these same rules
by `lib.redaction`; screens and the API mask a customer's identities by role with them.
"""

from __future__ import annotations

import re
from datetime import date

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
    """Cards and account numbers: the last 4 digits only."""
    digits = re.sub(r"\D", "", value)
    return MASK * max(len(digits) - 4, 3) + digits[-4:]


def mask_reference(value: str) -> str:
    """Core-system references: the last 4 characters."""
    return MASK * max(len(value) - 4, 3) + value[-4:]


def mask_identifier(value: str) -> str:
    """Opaque identifiers (openid, Alipay id): the first 3 and last 3 characters."""
    if len(value) <= 8:
        return MASK * len(value)
    return value[:3] + MASK * 6 + value[-3:]


# --- recognising identifiers ----------------------------------------------------------------


def luhn_valid(digits: str) -> bool:
    """The check digit of payment card numbers (ISO/IEC 7812)."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


_CN_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
# First two digits of a mainland resident ID: the province (GB/T 2260).
_CN_PROVINCES = frozenset(
    {"11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
     "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
     "65", "71", "81", "82", "83", "91"}
)  # fmt: skip


def cn_resident_id_checksum_ok(value: str) -> bool:
    """The 18th character of a mainland resident ID number (GB 11643, ISO 7064 MOD 11-2)."""
    total = sum(int(d) * w for d, w in zip(value[:17], _CN_ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == value[17].upper()


def cn_resident_id_plausible(digits: str) -> bool:
    """A province and a real birth date where a mainland ID (18, or 15 before 1999) has them;
    the 18-character form may be given without its check character."""
    if digits[:2] not in _CN_PROVINCES:
        return False
    if len(digits) >= 17:
        year, month, day = int(digits[6:10]), int(digits[10:12]), int(digits[12:14])
    else:
        year, month, day = 1900 + int(digits[6:8]), int(digits[8:10]), int(digits[10:12])
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def tw_id_checksum_ok(value: str) -> bool:
    """A Taiwan national ID (a letter, 1 or 2 for the sex, 8 digits) with its check digit."""
    letters = "ABCDEFGHJKLMNPQRSTUVXYWZIO"
    code = letters.find(value[0].upper()) + 10
    if code < 10:
        return False
    numbers = [code // 10, code % 10, *map(int, value[1:])]
    weights = (1, 9, 8, 7, 6, 5, 4, 3, 2, 1, 1)
    return sum(n * w for n, w in zip(numbers, weights, strict=True)) % 10 == 0
