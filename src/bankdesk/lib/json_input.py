"""Reading JSON that comes from outside the bank: providers' webhooks, chat frames, API bodies.

Python's own parser trusts its input in ways a public endpoint cannot: it recurses once per
nesting level and raises RecursionError (not ValueError) past about a thousand, it reads NaN and
Infinity, it keeps the last of two equal keys (so a signed body can mean two things to two
parsers), and it yields strings no database will store. `json_input_parse` is the one door for
such input: it bounds the size and the nesting before parsing, parses strictly, and answers
anything it will not take with `MalformedInput` (400), so a caller has one error to handle.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from bankdesk.lib.errors import MalformedInput
from bankdesk.lib.text import has_lone_surrogates

# Deeper than any message a channel or an API operation sends (they nest two or three levels),
# and far inside the interpreter's recursion limit wherever the parse runs.
DEPTH_MAX = 32
# No identifier or amount the bank handles has more digits; Python itself stops at 4300.
INTEGER_DIGITS_MAX = 40

# Strings whole (so brackets inside them do not count), single brackets, and a quote no string
# closes. Each alternative starts on a distinct character, so matching stays linear.
_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]|"', re.DOTALL)
# A \uD800–\uDFFF escape: only then can the parsed text hold a lone surrogate.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _depth_check(text: str, max_depth: int) -> None:
    """Refuse nesting deeper than `max_depth`, counted without recursion and before parsing."""
    depth = 0
    for token in _TOKENS.finditer(text):
        kind = token.group()
        if kind in {"[", "{"}:
            depth += 1
            if depth > max_depth:
                raise ValueError(f"it is nested more than {max_depth} levels deep")
        elif kind in {"]", "}"}:
            depth -= 1
        elif kind == '"':
            return  # an unterminated string: the parser refuses it without going deeper


def _constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _integer(digits: str) -> int:
    if len(digits.lstrip("-")) > INTEGER_DIGITS_MAX:
        raise ValueError(f"a number has more than {INTEGER_DIGITS_MAX} digits")
    return int(digits)


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:20]} is out of range")
    return value


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data = dict(pairs)
    if len(data) < len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"the key {key[:40]!r} appears twice in one object")
            seen.add(key)
    return data


def _lone_surrogate_check(value: Any) -> None:
    """Refuse strings with half a UTF-16 pair: no database stores them, nothing can show them."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if has_lone_surrogates(item):
                raise ValueError("it holds a string with half a UTF-16 surrogate pair")
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)


def json_input_parse(
    raw: bytes | str, *, max_size: int, max_depth: int = DEPTH_MAX, field: str | None = None
) -> Any:
    """The JSON value in `raw`, or MalformedInput (400) naming `field` when it cannot be taken.

    `max_size` bounds `raw` as given: bytes of a request body, characters of a WebSocket text
    frame. Bytes must be UTF-8 (RFC 8259 §8.1). NaN, Infinity, a number with more than
    INTEGER_DIGITS_MAX digits, a key repeated within one object and a lone surrogate are
    refused, as is nesting deeper than `max_depth`.
    """
    if len(raw) > max_size:
        unit = "bytes" if isinstance(raw, bytes) else "characters"
        raise MalformedInput(f"the JSON may be at most {max_size} {unit}", field=field)
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        if isinstance(raw, str):
            raw.encode("utf-8")  # a lone surrogate in the text itself, not escaped
    except UnicodeError as exc:
        raise MalformedInput("the JSON is not UTF-8 text", field=field) from exc
    try:
        _depth_check(text, max_depth)
        value = json.loads(
            text,
            parse_constant=_constant,
            parse_int=_integer,
            parse_float=_finite,
            object_pairs_hook=_object,
        )
        if _SURROGATE_ESCAPE.search(text):
            _lone_surrogate_check(value)
    except ValueError as exc:  # JSONDecodeError, and the refusals of the checks above
        raise MalformedInput(f"the JSON cannot be read: {exc}", field=field) from exc
    return value
