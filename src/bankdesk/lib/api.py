"""Building blocks shared by every app's API: safe input types, the error body, paging."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from django.utils import timezone
from ninja import Schema
from pydantic import AfterValidator, Field, StringConstraints

from bankdesk.lib.text import clean_text, is_unusable

MAX_ID = 2**63 - 1
# Years outside this window are typos or attacks, and overflow some databases' date types.
EARLIEST_YEAR, LATEST_YEAR = 1900, 2200


def _safe(value: str) -> str:
    if is_unusable(value):
        raise ValueError("contains control characters")
    return clean_text(value)


def _nonblank(value: str) -> str:
    if not value:
        raise ValueError("must not be blank")
    return value


def aware_in_range(value: datetime) -> datetime:
    """A moment from outside, in UTC; ValueError without an offset or outside the years kept.

    Year 1 or 9999 with an offset cannot even be converted (OverflowError): refused here,
    before a database adapter meets it.
    """
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("needs a time-zone offset, e.g. 2026-10-01T09:00:00+08:00")
    try:
        utc = value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("out of range") from exc
    if not EARLIEST_YEAR <= utc.year <= LATEST_YEAR:
        raise ValueError(f"year must be between {EARLIEST_YEAR} and {LATEST_YEAR}")
    return utc


def Text(max_length: int) -> type[str]:
    """A string without control characters, trimmed and NFC-normalised, at most `max_length`."""
    return Annotated[  # type: ignore[return-value]
        str, StringConstraints(max_length=max_length), AfterValidator(_safe)
    ]


def RequiredText(max_length: int) -> type[str]:
    return Annotated[  # type: ignore[return-value]
        str,
        StringConstraints(min_length=1, max_length=max_length),
        AfterValidator(_safe),
        AfterValidator(_nonblank),
    ]


Id = Annotated[int, Field(ge=1, le=MAX_ID)]
AwareDatetime = Annotated[datetime, AfterValidator(aware_in_range)]


class ErrorOut(Schema):
    """Every error bankdesk answers has this shape."""

    code: str
    message: str
    field: str | None = None


def error_responses(*statuses: int) -> dict[int, type[ErrorOut]]:
    """Response declarations for the errors an operation can give.

    Any operation can meet 400 (unparseable body), 401 (no valid credentials), 403 (a role or a
    read-only token that may not), 422 (invalid input), 429 (rate limit) and 503 (the database
    briefly out of reach: retry after the Retry-After seconds).
    """
    return dict.fromkeys(sorted({400, 401, 403, 422, 429, 503, *statuses}), ErrorOut)


def local_iso(value: datetime | None) -> str | None:
    return timezone.localtime(value).isoformat() if value else None
