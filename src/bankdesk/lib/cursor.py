"""Opaque keyset cursors: stable under inserts, constant cost at any depth of a large list."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

from bankdesk.lib.api import MAX_ID, aware_in_range
from bankdesk.lib.errors import InvalidInput, MalformedInput
from bankdesk.lib.json_input import json_input_parse

# A cursor bankdesk issues is about 60 characters; the API takes at most 200.
CURSOR_MAX_LENGTH = 200


class InvalidCursorError(InvalidInput):
    code = "invalid_cursor"


def cursor_encode(created_at: datetime, pk: int) -> str:
    raw = json.dumps([created_at.isoformat(), pk], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _position(cursor: str) -> tuple[datetime, int]:
    """The (created_at, id) a cursor names; ValueError for anything else."""
    if len(cursor) > CURSOR_MAX_LENGTH or not cursor.isascii():
        raise ValueError("not a cursor")
    padded = cursor + "=" * (-len(cursor) % 4)
    try:
        raw = base64.urlsafe_b64decode(padded.encode("ascii"))
        value = json_input_parse(raw, max_size=CURSOR_MAX_LENGTH, max_depth=1)
    except (binascii.Error, MalformedInput) as exc:
        raise ValueError("not a cursor") from exc
    if not isinstance(value, list) or len(value) != 2:
        raise ValueError("not a cursor")
    created_raw, pk = value
    # bool is an int to Python; a cursor never holds one.
    if not isinstance(created_raw, str) or type(pk) is not int or not 0 < pk <= MAX_ID:
        raise ValueError("not a cursor")
    return aware_in_range(datetime.fromisoformat(created_raw)), pk


def cursor_decode(cursor: str) -> tuple[datetime, int]:
    """Where a page continues: any cursor bankdesk did not issue, however it is malformed or
    whatever moment it names, is the one error (422, field "cursor"), never a database error."""
    try:
        return _position(cursor)
    except ValueError as exc:
        raise InvalidCursorError("this cursor is not one bankdesk issued", field="cursor") from exc
