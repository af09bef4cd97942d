"""The one reader of JSON from outside: what it takes, what it refuses, never a crash."""

from __future__ import annotations

import contextlib
import json
import sys
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bankdesk.lib.errors import MalformedInput
from bankdesk.lib.json_input import DEPTH_MAX, json_input_parse

LARGE = 1 << 20


def parse(raw: bytes | str, **options: Any) -> Any:
    return json_input_parse(raw, max_size=options.pop("max_size", LARGE), **options)


def test_a_channel_message_reads_as_json_does():
    body = {"message_id": "SM1", "text": "我的卡\n被锁了 😀", "n": [1, -2.5, None, True]}
    assert parse(json.dumps(body).encode()) == body
    assert parse(json.dumps(body, ensure_ascii=False)) == body


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 100_000,
        b'{"a":' * 50_000,
        ("[" * (sys.getrecursionlimit() * 2) + "]" * (sys.getrecursionlimit() * 2)).encode(),
    ],
    ids=["unclosed-arrays", "unclosed-objects", "closed-deeper-than-the-stack"],
)
def test_nesting_past_the_limit_is_refused_before_parsing(raw):
    with pytest.raises(MalformedInput, match="nested more than"):
        parse(raw)


def test_nesting_up_to_the_limit_is_taken_and_brackets_inside_strings_do_not_count():
    deepest = "[" * DEPTH_MAX + '"[[[[{{{{\\"]]]]"' + "]" * DEPTH_MAX
    value = parse(deepest)
    for _ in range(DEPTH_MAX):
        value = value[0]
    assert value == '[[[[{{{{"]]]]'
    with pytest.raises(MalformedInput):
        parse("[" + deepest + "]")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b'{"text": NaN}', "NaN"),
        (b"[Infinity]", "Infinity"),
        (b"[-Infinity]", "Infinity"),
        (b"[1e999]", "out of range"),
        (b"[" + b"9" * 41 + b"]", "digits"),
        (b"[" + b"9" * 100_000 + b"]", "digits"),
        (b'{"to": "95588", "to": "10086"}', "appears twice"),
        (b'["\\ud800"]', "surrogate"),
        (b'{"\\udfff": 1}', "surrogate"),
        (b"\xff\xfe{}", "UTF-8"),
        (b'{"text": "\xc4\xe3\xba\xc3"}', "UTF-8"),  # GBK bytes
        ('["\ud800"]', "UTF-8"),
        (b"\xef\xbb\xbf{}", "BOM"),
        (b"", "Expecting value"),
        (b'{"a": 1', "Expecting"),
        (b'"' + b'\\"' * 1000, "Unterminated"),
        (b"[1, 2] [3]", "Extra data"),
    ],
)
def test_what_json_leaves_ambiguous_or_no_database_stores_is_refused(raw, reason):
    with pytest.raises(MalformedInput, match=reason) as refused:
        parse(raw, field="body")
    assert refused.value.status == 400 and refused.value.field == "body"


def test_a_surrogate_pair_is_one_character_and_taken():
    assert parse(b'["\\ud83d\\ude00"]') == ["😀"]


def test_the_size_is_checked_before_anything_is_read():
    with pytest.raises(MalformedInput, match="at most 10 bytes"):
        parse(b"[" * 11, max_size=10)
    with pytest.raises(MalformedInput, match="at most 10 characters"):
        parse("汉" * 11, max_size=10)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(value=json_values)
def test_any_json_within_the_limits_reads_back_unchanged(value):
    assert parse(json.dumps(value).encode()) == value


@settings(max_examples=500, deadline=None)
@given(
    raw=st.binary(max_size=300)
    | st.text(alphabet='[]{}",:\\0123456789.eE+-truefalsnul \ud800', max_size=300)
    | st.integers(1, 5000).map(lambda depth: "[" * depth + "]" * depth)
)
def test_any_input_is_either_a_value_or_a_400_never_another_error(raw):
    # Anything but MalformedInput escapes and fails the test; MalformedInput is always a 400.
    with contextlib.suppress(MalformedInput):
        parse(raw)
