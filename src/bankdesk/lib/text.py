"""Checks and normalisation for text that arrives from users and channels."""

from __future__ import annotations

import re
import unicodedata

# C0 controls other than tab, newline and carriage return; NUL above all, which PostgreSQL refuses.
_FORBIDDEN_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def has_forbidden_controls(value: str) -> bool:
    return bool(_FORBIDDEN_CONTROLS.search(value))


def has_lone_surrogates(value: str) -> bool:
    return any(0xD800 <= ord(ch) <= 0xDFFF for ch in value)


# What no database bankdesk runs on can store: NUL (PostgreSQL refuses it in text and in JSON)
# and half a UTF-16 surrogate pair (not UTF-8 at all).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def is_storable(value: str) -> bool:
    """Text every database takes as it is; control characters other than NUL are allowed."""
    return _UNSTORABLE.search(value) is None


def is_unusable(value: str) -> bool:
    """Text no field may store: control characters (NUL above all) or lone surrogates."""
    return has_forbidden_controls(value) or has_lone_surrogates(value)


def clean_text(value: str) -> str:
    """NFC-normalise and trim; callers reject controls before this."""
    return unicodedata.normalize("NFC", value).strip()


def _is_break_or_control(char: str) -> bool:
    """Line breaks of every kind (CR, LF, NEL, U+2028/2029), tabs and other controls."""
    return char.isspace() or unicodedata.category(char) in {"Cc", "Cs", "Zl", "Zp"}


def is_one_line(value: str) -> bool:
    """Whether a value can go into a header or a provider's id field as it is: no line break,
    tab or other control character, and no lone surrogate."""
    return not any(_is_break_or_control(char) and char != " " for char in value)


def one_line(value: str, max_length: int | None = None) -> str:
    """A subject or a name as one line of text, cut to `max_length` characters: line breaks,
    tabs and control characters become spaces and runs of spaces one, so nothing a sender
    folds or smuggles into it can break a header the bank later writes from it."""
    spaced = "".join(" " if _is_break_or_control(char) else char for char in value)
    return " ".join(unicodedata.normalize("NFC", spaced).split())[:max_length].rstrip()
