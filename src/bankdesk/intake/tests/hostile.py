"""Hostile input for the channel fuzz tests: what an attacker or a broken provider may send.

Each strategy mixes what a channel expects with what it must survive: nesting far past the
interpreter's stack, numbers past Python's 4300-digit limit, NaN and Infinity, repeated keys,
bytes that are not UTF-8, lone surrogates, NUL, wrong types in every field, moments at the ends
of the calendar. Shaped payloads keep the channel's own field names, so a signed one gets past
the signature into the parser and on to the database.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

# Strings the database, the masking and the case screens must all survive.
AWKWARD_TEXT = [
    "",
    "   ",
    "a\x00b",
    "\x07\x1b[31m",
    "\ud800",
    "x\udfffy",
    "\ufeff",
    "\u202etxet",
    "😀" * 3,
    "<script>alert(1)</script>",
    "'; DROP TABLE tickets_case; --",
    "%s%n%x",
    "\r\n\r\n",
    "卡号 6222 0200 0000 0000 123",
    "我的信用卡被盗刷了",
]

moments = st.builds(
    lambda moment, minutes: moment.replace(tzinfo=timezone(timedelta(minutes=minutes))),
    st.sampled_from([datetime.min, datetime.max]) | st.datetimes(),
    st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1),
).map(datetime.isoformat)

texts = st.one_of(
    st.sampled_from(AWKWARD_TEXT),
    st.text(max_size=40),
    st.integers(min_value=1, max_value=12_000).map(lambda n: "长" * n),
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**40, max_value=10**60)
    | st.floats()
    | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=12,
)


def field(*plausible: str) -> st.SearchStrategy[Any]:
    """A value for one named field: often a plausible one, else anything at all."""
    return st.one_of(st.sampled_from(plausible), texts, moments, json_values)


def dumps(value: Any) -> bytes:
    # NaN and Infinity come out as the bare words Python writes, as a careless provider's would.
    return json.dumps(value).encode()


def _nested(depth: int, opener: bytes, closer: bytes, closed: bool) -> bytes:
    return opener * depth + (closer * depth if closed else b"")


def nested_json(max_depth: int) -> st.SearchStrategy[bytes]:
    """Arrays or objects nested up to `max_depth`, closed or left open. Hypothesis favours
    small numbers, so the depths that matter (past bankdesk's limit, past the stack) are named."""
    depths = [depth for depth in (33, 5_000, 50_000) if depth <= max_depth]
    return st.builds(
        _nested,
        st.sampled_from(depths) | st.integers(min_value=1, max_value=max_depth),
        st.sampled_from([b"[", b'{"a":']),
        st.just(b"]") | st.just(b"}"),
        st.booleans(),
    )


UNREADABLE_JSON = [
    b"",
    b"null",
    b'{"text": NaN}',
    b"[Infinity, -Infinity]",
    b"[1e999]",
    b'{"text": "a", "text": "b"}',
    b'"\\ud800"',
    b"\xef\xbb\xbf{}",
    b"\xff\xfe{\x00}\x00",
    "{'单引号': 1}".encode(),
    '{"text": "你好"}'.encode("gbk"),
    b'{"text": "' + b"\\" * 999 + b'"}',
]


def json_bodies(
    shaped: st.SearchStrategy[Mapping[str, Any]], *, max_bytes: int
) -> st.SearchStrategy[bytes]:
    """Request bodies for a JSON endpoint: its own shape with hostile values, any JSON, and
    bytes that are not JSON at all, each at most `max_bytes` deep or long."""
    return st.one_of(
        shaped.map(dumps),
        shaped.map(lambda value: json.dumps(value, ensure_ascii=False).encode("utf-8", "replace")),
        json_values.map(dumps),
        # Twice: nesting past the stack is the crash every JSON endpoint meets first.
        nested_json(max_bytes),
        nested_json(max_bytes),
        st.integers(min_value=4000, max_value=20_000).map(
            lambda digits: b'{"text": ' + b"9" * digits + b"}"
        ),
        st.sampled_from(UNREADABLE_JSON),
        st.binary(max_size=300),
    )


def nested_xml(depth: int) -> bytes:
    return b"<xml>" + b"<a>" * depth + b"x" + b"</a>" * depth + b"</xml>"


def xml_document(fields: Mapping[str, Any], wrap_in_cdata: bool) -> bytes:
    """A WeChat-style document from any values: CDATA-wrapped or bare, well-formed or not."""
    parts = []
    for name, value in fields.items():
        text = value if isinstance(value, str) else json.dumps(value)
        inner = f"<![CDATA[{text}]]>" if wrap_in_cdata else text
        parts.append(f"<{name}>{inner}</{name}>")
    return ("<xml>" + "".join(parts) + "</xml>").encode("utf-8", "surrogatepass")


UNREADABLE_XML = [
    b"",
    b"<xml>",
    b"<notxml/>",
    b'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa">'
    b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><xml>&b;</xml>',
    b'<!DOCTYPE xml SYSTEM "file:///etc/passwd"><xml/>',
    b"<xml><Content>&#0;</Content></xml>",
    b"<xml><Content>&#xD800;</Content></xml>",
    '<?xml version="1.0" encoding="utf-8"?><xml><Content>你好</Content></xml>'.encode("gbk"),
    b"\xff\xfe<\x00x\x00m\x00l\x00/\x00>\x00",
]
