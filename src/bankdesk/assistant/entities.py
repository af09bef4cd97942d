"""What a customer's message names: amounts, dates, a card's last four digits, transaction
references. Rules, not a model: they are exact, explainable and cost microseconds.

Entities are read from what the customer typed, before masking, but never hold more than the
masked text would: a full card number yields only its last four digits, and anything that
would carry an identifier (a phone number said as an "order number") is not an entity. The
text itself is masked before it is stored (`lib.redaction.redact_personal_data`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from bankdesk.lib.chinese import to_simplified
from bankdesk.lib.masking import luhn_valid
from bankdesk.lib.redaction import redact_personal_data


@dataclass(frozen=True)
class Entity:
    kind: str  # amount | date | card_last4 | reference
    text: str
    value: str
    currency: str = ""

    def as_dict(self) -> dict[str, str]:
        return {k: v for k, v in asdict(self).items() if v}


CURRENCY_SIGNS = {"¥": "CNY", "￥": "CNY", "$": "USD", "£": "GBP", "€": "EUR", "hk$": "HKD"}
CURRENCY_WORDS = {
    "元": "CNY", "块": "CNY", "块钱": "CNY", "人民币": "CNY", "rmb": "CNY", "cny": "CNY",
    "港币": "HKD", "港元": "HKD", "hkd": "HKD", "美元": "USD", "美金": "USD", "usd": "USD",
    "dollars": "USD", "dollar": "USD", "英镑": "GBP", "gbp": "GBP", "pounds": "GBP",
    "pound": "GBP", "欧元": "EUR", "eur": "EUR", "euros": "EUR", "euro": "EUR",
}  # fmt: skip
ZH_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
             "七": 7, "八": 8, "九": 9}  # fmt: skip
ZH_UNITS = {"十": 10, "百": 100, "千": 1000}
NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+(?:\.\d{1,2})?"
ZH_NUMBER = r"[零〇一二两三四五六七八九十百千万]+"
_words = "|".join(sorted(map(re.escape, CURRENCY_WORDS), key=len, reverse=True))
AMOUNT_SIGN = re.compile(rf"(hk\$|[¥￥$£€])\s?({NUMBER})(\s?[万kK])?", re.I)
AMOUNT_WORD = re.compile(rf"({NUMBER}|{ZH_NUMBER})(\s?[万kK])?\s?({_words})(?![a-z])", re.I)
# The sign after the number, as many customers type it: "700£", "84$".
AMOUNT_SIGN_AFTER = re.compile(rf"(?<![\w.,])({NUMBER})(\s?[kK])?\s?(hk\$|[¥￥$£€])(?!\d)", re.I)
SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000}
AMOUNT_SCALED = re.compile(
    rf"\b({NUMBER}|a|an|one|two|three|four|five|six|seven|eight|nine|ten)\s+"
    rf"(hundred|thousand|million)\s+({_words})(?![a-z])",
    re.I,
)

DATE_ISO = re.compile(r"(?<!\d)(20\d{2})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?!\d)")
DATE_ZH = re.compile(r"(?<![\d年])(\d{1,2})月(\d{1,2})[日号]")
MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
MONTHS = {name: number for number, name in enumerate(MONTH_NAMES, start=1)}
# Whole month names or their abbreviations only: "maybe 10" is not the 10th of May.
_month = (
    r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b\.?"
)
DATE_EN_DM = re.compile(
    rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_month}(?:\s+(20\d{{2}}))?", re.I
)
DATE_EN_MD = re.compile(
    rf"\b{_month}\s+(?:the\s+)?(\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(20\d{{2}}))?\b", re.I
)
RELATIVE = {
    "today": 0, "this morning": 0, "this afternoon": 0, "tonight": 0, "yesterday": -1,
    "last night": -1, "tomorrow": 1, "day after tomorrow": 2, "day before yesterday": -2,
    "今天": 0, "今日": 0, "今早": 0, "今天早上": 0, "昨天": -1, "昨日": -1, "昨晚": -1,
    "前天": -2, "明天": 1, "后天": 2, "大前天": -3,
}  # fmt: skip
WEEKDAYS = {
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5,
    "sunday": 6, "一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6,
}  # fmt: skip
# A weekday without "next" is the latest one before today: customers report what happened,
# unless the message speaks of what is to come (see FUTURE).
WEEKDAY_EN = re.compile(
    r"\b(last\s+week\s+|next\s+week\s+|last\s+|this\s+|next\s+)?"
    r"(monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b",
    re.I,
)
# Words that put a day said without a year or week in the future ("by Friday", "a meeting on
# Tuesday", "I'll pay on the 5th"), unless the message also speaks of the past.
FUTURE = re.compile(
    r"\b(?:will|shall|going to|schedule[ds]?|appointment|meeting|arrange|book|make it|by|until"
    r"|till|due|expect(?:ed)?|upcoming)\b|'ll\b|下周|下个月|将|预约|之前要|到期",
    re.I,
)
PAST = re.compile(
    r"\b(?:was|were|did|had|lost|paid|spent|made|sent|got|received|charged|ago|yesterday"
    r"|last)\b|了|昨|上周|上个",
    re.I,
)
WEEKDAY_ZH = re.compile(r"(上个?|这个?|下个?)?(?:周|星期|礼拜)([一二三四五六日天])")
NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
                "seven": 7, "eight": 8, "nine": 9, "ten": 10}  # fmt: skip
AGO_EN = re.compile(
    r"\b(\d{1,3}|a|an|one|two|three|four|five|six|seven|eight|nine|ten)\s+"
    r"(day|week|month)s?\s+ago\b|\bin\s+(\d{1,3})\s+(day|week)s?\b",
    re.I,
)
AGO_ZH = re.compile(r"(\d{1,3}|[一二两三四五六七八九十]+)\s?(天|周|个星期|个月)(前|后|以前|之前)")
ORDINAL_DAY = re.compile(r"\bthe\s+(\d{1,2})(?:st|nd|rd|th)\b(?!\s+(?:of\s+)?[a-z])", re.I)
RELATIVE_RE = re.compile("|".join(sorted(map(re.escape, RELATIVE), key=len, reverse=True)), re.I)

LAST4 = re.compile(
    r"(?:尾号|末四位|后四位|後四位|尾數|尾数|末尾|ending(?:\s+in)?|ends\s+(?:in|with)"
    r"|last\s+(?:4|four)(?:\s+digits)?(?:\s+(?:are|is|of))?)\s*(?:是|为|為|:|：)?\s*(\d{4})(?!\d)",
    re.I,
)
MASKED_CARD = re.compile(r"(?:\*{2,}|x{2,}|X{2,})[\s-]?(\d{4})(?!\d)")
CARD_DIGITS = re.compile(r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)")
REFERENCE = re.compile(
    r"(?:reference|ref\.?|transaction\s+(?:id|number|no\.?)|txn(?:\s+id)?|order\s+(?:id|number)"
    r"|流水号|交易流水|交易号|订单号|參考號|参考号|凭证号|交易编号)\s*(?:is|是|为|:|：|#|no\.?)?\s*"
    r"([A-Za-z0-9][A-Za-z0-9-]{5,39})",
    re.I,
)


def _zh_number(text: str) -> int | None:
    total, section, digit = 0, 0, 0
    for char in text:
        if char in ZH_DIGITS:
            digit = ZH_DIGITS[char]
        elif char in ZH_UNITS:
            section += (digit or 1) * ZH_UNITS[char]
            digit = 0
        elif char == "万":
            total += (section + digit) * 10_000
            section, digit = 0, 0
        else:
            return None
    return total + section + digit


def _decimal(number: str, scale: str | None) -> Decimal | None:
    number = number.replace(",", "")
    try:
        value = Decimal(number)
    except InvalidOperation:
        parsed = _zh_number(number)
        if parsed is None:
            return None
        value = Decimal(parsed)
    scale = (scale or "").strip().lower()
    if scale == "万":
        value *= 10_000
    elif scale == "k":
        value *= 1_000
    return value


def _date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _recent(today: date, month: int, day: int, *, forward: bool = False) -> date | None:
    """A day and month without a year: the latest such date not after today (with
    `forward`, the first not before today)."""
    found = _date(today.year, month, day)
    if forward:
        if found is not None and found < today:
            found = _date(today.year + 1, month, day)
    elif found is not None and found > today:
        found = _date(today.year - 1, month, day)
    return found


def _weekday(today: date, weekday: int, which: str, *, forward: bool = False) -> date:
    """The latest such weekday before today (with `forward`, the first after today); 'next'
    the first after today; 'this' the one of this week (Monday first); 'last week' and
    'next week' the one of the week before or after this one."""
    which = " ".join(which.split())
    if which == "next week":
        return today + timedelta(7 - today.weekday() + weekday)
    if which == "last week":
        which = "上"
    if which in {"next", "下", "下个"} or (forward and not which):
        return today + timedelta((weekday - today.weekday() - 1) % 7 + 1)
    if which in {"this", "这", "这个"}:
        return today + timedelta(weekday - today.weekday())
    if which in {"上", "上个"}:
        return today - timedelta(today.weekday() + 7 - weekday)
    return today - timedelta((today.weekday() - weekday - 1) % 7 + 1)


def _add_months(day: date, months: int) -> date:
    """The same day `months` later (earlier when negative), the 28th where it has none."""
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    return _date(year, month, day.day) or _date(year, month, 28) or day


def _relative_days(
    text: str, today: date, *, forward: bool
) -> list[tuple[tuple[int, int], str, date]]:
    """Weekdays, "3 days ago", "两周前", "the 16th": dates said relative to today."""
    found: list[tuple[tuple[int, int], str, date]] = []
    for match in WEEKDAY_EN.finditer(text):
        which = (match.group(1) or "").lower()
        day = _weekday(today, WEEKDAYS[match.group(2).lower()], which, forward=forward)
        found.append((match.span(), match.group(0), day))
    for match in WEEKDAY_ZH.finditer(text):
        day = _weekday(today, WEEKDAYS[match.group(2)], match.group(1) or "", forward=forward)
        found.append((match.span(), match.group(0), day))
    for match in AGO_EN.finditer(text):
        if match.group(1):
            word = match.group(1).lower()
            count = NUMBER_WORDS.get(word) or int(word)
            unit, sign = match.group(2).lower(), -1
        else:
            count, unit, sign = int(match.group(3)), match.group(4).lower(), 1
        found.append((match.span(), match.group(0), _shifted(today, count * sign, unit)))
    for match in AGO_ZH.finditer(text):
        said = match.group(1)
        amount = int(said) if said.isdigit() else _zh_number(said)
        if amount is None:
            continue
        unit = {"天": "day", "周": "week", "个星期": "week", "个月": "month"}[match.group(2)]
        sign = 1 if match.group(3) == "后" else -1
        found.append((match.span(), match.group(0), _shifted(today, amount * sign, unit)))
    for match in ORDINAL_DAY.finditer(text):
        this_month = _date(today.year, today.month, int(match.group(1)))
        if this_month is None:
            continue
        if forward:
            day = _add_months(this_month, 1) if this_month < today else this_month
        else:
            day = _add_months(this_month, -1) if this_month > today else this_month
        found.append((match.span(), match.group(0), day))
    return found


def _shifted(today: date, count: int, unit: str) -> date:
    if unit == "month":
        return _add_months(today, count)
    return today + timedelta(days=count * (7 if unit == "week" else 1))


def extract_entities(text: str, *, today: date) -> list[Entity]:
    text = unicodedata.normalize("NFKC", text)[:4000]
    simplified = to_simplified(text)
    found: list[Entity] = []
    taken: list[tuple[int, int]] = []

    def add(span: tuple[int, int], entity: Entity) -> None:
        if any(span[0] < end and start < span[1] for start, end in taken):
            return
        taken.append(span)
        found.append(entity)

    for match in AMOUNT_SIGN.finditer(simplified):
        value = _decimal(match.group(2), match.group(3))
        if value is not None:
            currency = CURRENCY_SIGNS[match.group(1).lower()]
            add(match.span(), Entity("amount", match.group(0), f"{value:f}", currency))
    for match in AMOUNT_SIGN_AFTER.finditer(simplified):
        value = _decimal(match.group(1), match.group(2))
        if value is not None and value > 0:
            currency = CURRENCY_SIGNS[match.group(3).lower()]
            add(match.span(), Entity("amount", match.group(0), f"{value:f}", currency))
    for match in AMOUNT_SCALED.finditer(simplified):
        said = match.group(1).lower()
        count = Decimal(NUMBER_WORDS[said]) if said in NUMBER_WORDS else _decimal(said, None)
        if count is not None and count > 0:
            value = count * SCALES[match.group(2).lower()]
            currency = CURRENCY_WORDS[match.group(3).lower()]
            add(match.span(), Entity("amount", match.group(0), f"{value.normalize():f}", currency))
    for match in AMOUNT_WORD.finditer(simplified):
        value = _decimal(match.group(1), match.group(2))
        if value is not None and value > 0:
            currency = CURRENCY_WORDS[match.group(3).lower()]
            add(match.span(), Entity("amount", match.group(0).strip(), f"{value:f}", currency))
    for match in DATE_ISO.finditer(simplified):
        day = _date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        if day is not None:
            add(match.span(), Entity("date", match.group(0), day.isoformat()))
    forward = bool(FUTURE.search(simplified)) and not PAST.search(simplified)
    for match in DATE_ZH.finditer(simplified):
        day = _recent(today, int(match.group(1)), int(match.group(2)), forward=forward)
        if day is not None:
            add(match.span(), Entity("date", match.group(0), day.isoformat()))
    for pattern, day_group, month_group in ((DATE_EN_DM, 1, 2), (DATE_EN_MD, 2, 1)):
        for match in pattern.finditer(simplified):
            month = MONTHS[match.group(month_group).lower()[:3]]
            year = match.group(3)
            day_number = int(match.group(day_group))
            day = (
                _date(int(year), month, day_number)
                if year
                else _recent(today, month, day_number, forward=forward)
            )
            if day is not None:
                add(match.span(), Entity("date", match.group(0), day.isoformat()))
    for match in RELATIVE_RE.finditer(simplified):
        offset = RELATIVE[match.group(0).lower()]
        add(match.span(), Entity("date", match.group(0), (today + timedelta(offset)).isoformat()))
    for span, text, day in _relative_days(simplified, today, forward=forward):
        add(span, Entity("date", text, day.isoformat()))
    for match in CARD_DIGITS.finditer(simplified):
        digits = re.sub(r"\D", "", match.group(0))
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            add(match.span(), Entity("card_last4", "**** " + digits[-4:], digits[-4:]))
    for pattern in (LAST4, MASKED_CARD):
        for match in pattern.finditer(simplified):
            add(match.span(), Entity("card_last4", match.group(0), match.group(1)))
    for match in REFERENCE.finditer(simplified):
        reference = match.group(1)
        # Read with the words before it, as the masking reads it: "流水号 <19 digits>" is a
        # reference, "order number <a mobile number>" a phone.
        if any(c.isdigit() for c in reference) and _is_clear(match.group(0)):
            add(match.span(1), Entity("reference", reference, reference.upper()))
    return [entity for entity in found if entity.kind == "reference" or _is_clear(entity.text)]


def _is_clear(text: str) -> bool:
    """Whether the text holds nothing the masking of stored text would hide."""
    return redact_personal_data(text) == text
