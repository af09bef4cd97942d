"""Personal data typed into free text, masked before anything stores or logs it.

Customers type their identifiers into messages ("my number is 138 1234 5678", "身份证
11010519491231002X"); staff have no need to read them there, because the customer's
identifiers live in the CRM's identities, encrypted, and are revealed only through an audited
reveal. So text keeps no more of an identifier than the bank's masking rules show anyone
(`lib.masking`): the last 4 digits of a card or account number or phone, the first and last
character of an ID number, the first letter and the domain of an e-mail address.

Two levels, by the bank's classification (DESIGN.md):

- `redact_authentication_data` — C3, kept nowhere in any text, whoever wrote it: card and
  account numbers (a Luhn-valid 13–19 digits, and any 16–19 digits, which is what a mistyped
  card number looks like), ID numbers (mainland 18- and 15-digit, Hong Kong, Macau, Taiwan,
  and any ID or passport number said as one), security codes and passwords.
- `redact_personal_data` — C3 and the C2 identifiers: phone numbers (mainland mobile and fixed
  line, +852/+853/+886 and any international number, any number said to be a phone) and
  e-mail addresses. Everything a customer writes goes through this one. A staff reply goes
  through the first only: it reaches the customer as written, with the bank's own numbers.

What is left alone, on purpose: amounts, dates, case numbers (C20260000123), the bank's service
numbers (95588, 400-…), and transaction or order references said as such ("流水号 …",
"order number …"), which a customer quotes so that staff can find a payment.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bankdesk.lib.masking import (
    MASK,
    cn_resident_id_checksum_ok,
    cn_resident_id_plausible,
    luhn_valid,
    mask_card,
    mask_email,
    mask_national_id,
    mask_phone,
    tw_id_checksum_ok,
)

# Not inside a longer run of letters or digits: "C20260000123" holds no phone number.
_START = r"(?<![A-Za-z0-9])"
_END = r"(?![A-Za-z0-9])"

# Words that introduce a transaction or order reference: a long number after them is one.
_REFERENCE_BEFORE = re.compile(
    r"(?<![A-Za-z])(?:reference|ref\.?|transaction\s+(?:id|number|no\.?)|txn(?:\s+id)?"
    r"|order\s+(?:id|number|no\.?)|流水号|流水號|交易流水|交易号|交易號|订单号|訂單號|单号|單號"
    r"|参考号|參考號|凭证号|憑證號|交易编号|交易編號|业务编号|業務編號)"
    r"\s*(?:is|是|为|為|:|：|#|no\.?)?\s*$",
    re.I,
)


def _is_reference(text: str, start: int) -> bool:
    return bool(_REFERENCE_BEFORE.search(text[max(0, start - 30) : start]))


# --- e-mail ---------------------------------------------------------------------------------

_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@"
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}"
    r"[A-Za-z0-9])?)*\.[A-Za-z]{2,24}(?![A-Za-z0-9-])"
)

# --- ID numbers -----------------------------------------------------------------------------

# Mainland resident ID: 6 digits of place, the birth date, 3 of sequence and a check character;
# people sometimes space it 6-8-4.
_CN_ID_18 = re.compile(rf"{_START}(\d{{6}}) ?(\d{{8}}) ?(\d{{3}}[0-9Xx]){_END}")
_CN_ID_15 = re.compile(rf"{_START}\d{{15}}{_END}")
# Hong Kong (A123456(7)) and Macau (1234567(8)) identity cards, by their bracketed check digit.
_HK_MACAU_ID = re.compile(rf"{_START}(?:[A-Z]{{1,2}}\d{{6}}|[1578]\d{{6}}) ?[(（][0-9A][)）]")
_TW_ID = re.compile(rf"{_START}[A-Z][12]\d{{8}}{_END}")
# Any identity document's number, said as one: "护照号码 E12345678", "HKID: A1234567".
_ID_SAID = re.compile(
    r"((?:身份证|身份證|居民身份证|证件|證件|护照|護照|通行证|通行證|回乡证|回鄉證|台胞证|台胞證"
    r"|(?<![A-Za-z])(?:passport|hkid|id\s*card|identity\s+card|national\s+id"
    r"|id(?=\s*(?:no\b|no\.|number|#))))(?:\s*(?:号码|號碼|号|號|no\.?|number|#))?)"
    r"(\s*(?:is|是|为|為|:|：)?\s*)"
    r"([A-Za-z0-9][A-Za-z0-9()（）-]{4,24})",
    re.I,
)

# --- card and account numbers ---------------------------------------------------------------

_CARD = re.compile(r"(?<![0-9])(?:[0-9][ -]?){12,18}[0-9](?![0-9])")

# --- phones ---------------------------------------------------------------------------------

# Any number dialled with its country code: +852 9123 4567, 00886 912 345 678, +1 (415) 555-0123.
_PHONE_INTERNATIONAL = re.compile(
    r"(?<![A-Za-z0-9+])(?:\+|00)\s?[1-9]\d{0,3}(?:[ -]?\(?\d{1,5}\)?){1,5}(?![0-9])"
)
# Hong Kong and Macau written with the code in brackets: (852) 9123 4567.
_PHONE_BRACKETED_CODE = re.compile(r"[(（]\s?(?:852|853|886)\s?[)）]\s?\d{4}[ -]?\d{4}(?![0-9])")
# Mainland mobile: 1[3-9]x xxxx xxxx.
_PHONE_CN_MOBILE = re.compile(rf"{_START}1[3-9]\d(?:[ -]?\d{{4}}){{2}}(?![0-9])")
# Mainland fixed line with its area code (010-12345678, (0755) 2345 6789), and Taiwan's
# domestic form (02-2345-6789, 0912-345-678): a leading 0, then 9–11 digits.
_AREA_CODE = r"0[1-9]\d{0,2}"
_PHONE_DOMESTIC = re.compile(
    rf"{_START}(?:[(（]{_AREA_CODE}[)）]|{_AREA_CODE})[ -]?[1-9]\d{{2,3}}[ -]?\d{{3,4}}(?![0-9])"
)
# Any number said to be a phone: "手机 9123 4567", "call me on 6123 4567".
_PHONE_SAID = re.compile(
    r"((?:电话|電話|手机|手機|联系方式|聯絡方式|联系电话|聯絡電話|致电|致電|回电|回電"
    r"|(?<![A-Za-z])(?:phone|mobile|cell|tel|telephone|whatsapp|call\s+me|reach\s+me|text\s+me"
    r"|contact\s+me)(?![A-Za-z]))(?:\s*(?:number|no\.?|号|號))?)"
    r"(\s*(?:is|是|为|為|:|：|at|on)?\s*)"
    r"(\+?\d[\d ()-]{5,18}\d)(?![0-9])",
    re.I,
)

# --- security codes and passwords -----------------------------------------------------------

_CARD_WORDS = (
    r"(?:cvv2?|cvc2?|cid|security code|card code|安全码|安全碼|校验码|校驗碼|验证码|驗證碼"
    r"|卡背后三位|卡背三位|后三位|後三位)"
)
_CVV = re.compile(rf"({_CARD_WORDS})(\s*(?:is|是|为|為|:|：|=)?\s*)([0-9]{{3,4}})(?![0-9])", re.I)
_SIGN_IN_CODE_WORDS = (
    r"(?:(?<![A-Za-z])(?:password|passcode|pin|passwd|pwd)(?![A-Za-z])|密码|密碼|口令|交易密码"
    r"|交易密碼|登录密码|登錄密碼|查询密码|查詢密碼)"
)
_PASSWORD = re.compile(
    rf"({_SIGN_IN_CODE_WORDS})(\s*(?:is(?![A-Za-z'’])|是|为|為|:|：|=|是不是)?\s*)"
    r"([^\s，。,.;；!！?？]{3,64})",
    re.I,
)
_CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def _cn_id_18(match: re.Match[str]) -> str:
    value = "".join(match.groups())
    # A typo'd number ending in X is still an ID number; all digits with a wrong check digit
    # may be an account number, which the card rule masks next.
    if not cn_resident_id_plausible(value[:17]) or not (
        value[-1] in "Xx" or cn_resident_id_checksum_ok(value)
    ):
        return match.group(0)
    return mask_national_id(value.upper())


def _cn_id_15(text: str) -> Callable[[re.Match[str]], str]:
    def replace(match: re.Match[str]) -> str:
        value = match.group(0)
        if not cn_resident_id_plausible(value) or _is_reference(text, match.start()):
            return value
        return mask_national_id(value)

    return replace


def _bracketed_id(match: re.Match[str]) -> str:
    return mask_national_id(re.sub(r"[^A-Za-z0-9]", "", match.group(0)).upper())


def _tw_id(match: re.Match[str]) -> str:
    value = match.group(0)
    return mask_national_id(value) if tw_id_checksum_ok(value) else value


def _id_said(match: re.Match[str]) -> str:
    value = match.group(3)
    if sum(c.isdigit() for c in value) < 4:  # "passport renewal", "ID card lost"
        return match.group(0)
    return match.group(1) + match.group(2) + mask_national_id(re.sub(r"[()（）-]", "", value))


def _card(text: str) -> Callable[[re.Match[str]], str]:
    def replace(match: re.Match[str]) -> str:
        digits = _digits(match.group(0))
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            return mask_card(digits)
        if 16 <= len(digits) <= 19 and not _is_reference(text, match.start()):
            return mask_card(digits)
        return match.group(0)

    return replace


def _phone(text: str, minimum: int, maximum: int) -> Callable[[re.Match[str]], str]:
    def replace(match: re.Match[str]) -> str:
        raw = match.group(0)
        if not minimum <= len(_digits(raw)) <= maximum or _is_reference(text, match.start()):
            return raw
        return mask_phone(raw)

    return replace


def _is_service_number(digits: str) -> bool:
    """The bank's own numbers, which customers quote: 95588, 400-820-8888, 800-…."""
    return len(digits) <= 6 or (len(digits) == 10 and digits.startswith(("400", "800")))


def _phone_said(match: re.Match[str]) -> str:
    digits = _digits(match.group(3))
    if not 7 <= len(digits) <= 15 or _is_service_number(digits):
        return match.group(0)
    return match.group(1) + match.group(2) + mask_phone(digits)


def _looks_secret(separator: str, value: str) -> bool:
    """After a sign-in word, is this the secret itself? Yes when given explicitly
    ("密码：…", "pin=…"), or when it looks like one: digits, symbols, or mixed case. Ordinary
    words are kept: "PIN for my new card", "my PIN is blocked", "密码是不是错了"."""
    if separator.strip() in {":", "：", "="}:
        return True
    # Words, not a secret: Chinese ("密码错误次数超限"), punctuation first ("PIN-based",
    # "password/or"), contractions ("PIN can't", "isn't").
    if _CJK.search(value) or not value[0].isalnum():
        return False
    value = value.replace("'", "").replace("’", "")
    if any(c.isdigit() for c in value):
        return True
    if any(not c.isalnum() for c in value):
        return True
    return any(c.isupper() for c in value[1:]) and any(c.islower() for c in value)


def _password(match: re.Match[str]) -> str:
    if not _looks_secret(match.group(2), match.group(3)):
        return match.group(0)
    return match.group(1) + match.group(2) + MASK * 6


def _authentication_data(text: str) -> str:
    if any(c.isdigit() for c in text):
        text = _CN_ID_18.sub(_cn_id_18, text)
        text = _CN_ID_15.sub(_cn_id_15(text), text)
        text = _HK_MACAU_ID.sub(_bracketed_id, text)
        text = _TW_ID.sub(_tw_id, text)
        text = _ID_SAID.sub(_id_said, text)
        text = _CARD.sub(_card(text), text)
        text = _CVV.sub(lambda m: m.group(1) + m.group(2) + MASK * len(m.group(3)), text)
    return _PASSWORD.sub(_password, text)


def redact_authentication_data(text: str) -> str:
    """Mask card and account numbers, ID numbers, security codes and passwords in free text.

    The full values never reach storage, search indexes or logs: PFI class C3 is not kept.
    """
    if not text:
        return text
    return _authentication_data(text)


def redact_personal_data(text: str) -> str:
    """Mask every identifier in what a customer wrote: C3 as `redact_authentication_data`
    does, and phone numbers and e-mail addresses (C2) as well."""
    if not text:
        return text
    if "@" in text:  # first: "13812345678@163.com" is an address, not a phone
        text = _EMAIL.sub(lambda m: mask_email(m.group(0)), text)
    text = _authentication_data(text)
    if any(c.isdigit() for c in text):
        text = _PHONE_INTERNATIONAL.sub(_phone(text, 8, 15), text)
        text = _PHONE_BRACKETED_CODE.sub(_phone(text, 11, 11), text)
        text = _PHONE_CN_MOBILE.sub(_phone(text, 11, 11), text)
        text = _PHONE_DOMESTIC.sub(_phone(text, 10, 12), text)
        text = _PHONE_SAID.sub(_phone_said, text)
    return text
