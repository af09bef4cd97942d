"""Chinese script handling: Simplified/Traditional folding with OpenCC, script detection.

Customers write 简体 or 繁體 and sometimes mix in English; search and the assistant compare
everything in one folded form (Simplified, NFKC, lower case) and answer in the customer's own
script, converting with OpenCC where no hand-written Traditional text exists. No Django here:
the assistant's model code uses it too.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc

HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# A message is Chinese when at least this share of its letters are Han characters: a Chinese
# sentence naming an English product ("我的card丢了") is Chinese.
CHINESE_SHARE = 0.3


@lru_cache(maxsize=4)
def _converter(config: str) -> opencc.OpenCC:
    return opencc.OpenCC(config)


def to_simplified(text: str) -> str:
    return str(_converter("t2s").convert(text)) if HAN.search(text) else text


def to_traditional(text: str) -> str:
    """Simplified → Traditional as written in Hong Kong (the bank's 繁體 customers)."""
    return str(_converter("s2hk").convert(text)) if HAN.search(text) else text


def fold(text: str) -> str:
    """The one form texts are compared in: NFKC (full-width → half-width), lower case,
    Traditional folded to Simplified."""
    return to_simplified(unicodedata.normalize("NFKC", text)).lower()


def han_share(text: str) -> float:
    """Share of Han characters among the letters (Han included) of `text`."""
    han = len(HAN.findall(text))
    letters = sum(1 for char in text if char.isalpha())
    return han / letters if letters else 0.0


def script_language(text: str, default: str = "en") -> str:
    """'zh-hans', 'zh-hant' or 'en' (bankdesk's language codes) for a customer's text.

    Traditional when folding its Han characters to Simplified changes more of them than
    converting them to Traditional does (characters shared by both scripts count for
    neither). Text with no letters at all (emoji, digits, nothing) gets `default`.
    """
    sample = text[:1000]
    if not any(char.isalpha() for char in sample):
        return default
    if han_share(sample) < CHINESE_SHARE:
        return "en"
    han = "".join(HAN.findall(sample))
    to_simple = sum(a != b for a, b in zip(han, to_simplified(han), strict=False))
    to_traditional_ = sum(
        a != b for a, b in zip(han, str(_converter("s2t").convert(han)), strict=False)
    )
    return "zh-hant" if to_simple > to_traditional_ else "zh-hans"


def in_reader_script(text: str, language: str) -> str:
    """Text written by customers or staff in either Chinese script, as a reader of `language`
    reads it: converted to 繁體 for a zh-hant reader; anyone else sees it as written."""
    return to_traditional(text) if language == "zh-hant" and han_share(text) > 0 else text
