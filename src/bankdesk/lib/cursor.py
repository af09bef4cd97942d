"""Opaque keyset cursors: stable under inserts, constant cost at any depth of a large list."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

from bankdesk.lib.errors import InvalidInput


class InvalidCursorError(InvalidInput):
    code = "invalid_cursor"


def cursor_encode(created_at: datetime, pk: int) -> str:
    raw = json.dumps([created_at.isoformat(), pk], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cursor_decode(cursor: str) -> tuple[datetime, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created_raw, pk = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        created_at = datetime.fromisoformat(created_raw)
        if created_at.tzinfo is None or not isinstance(pk, int) or not 0 < pk < 2**63:
            raise ValueError("bad cursor")
    except (ValueError, TypeError, UnicodeError, binascii.Error, json.JSONDecodeError) as exc:
        raise InvalidCursorError("this cursor is not one bankdesk issued", field="cursor") from exc
    return created_at, pk
