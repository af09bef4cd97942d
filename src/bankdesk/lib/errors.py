"""One error base for the whole of bankdesk, mapped once to HTTP answers in the API.

Apps define their own codes in `<app>/errors.py` by subclassing these.
"""

from __future__ import annotations


class BankdeskError(Exception):
    """A domain error: a stable machine code, a human message and optionally the field at fault."""

    status = 400
    code = "bad_request"
    headers: dict[str, str]

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.field = field
        self.headers = {}

    def as_body(self) -> dict[str, str | None]:
        return {"code": self.code, "message": self.message, "field": self.field}


class InvalidInput(BankdeskError):
    status = 422
    code = "invalid"


class MalformedInput(InvalidInput):
    """Input that cannot be read at all (not JSON, not UTF-8, too large, nested too deep): 400,
    and nothing from it is kept. Channels raise it as `intake.errors.MalformedPayload`."""

    status = 400
    code = "malformed_payload"


class NotFound(BankdeskError):
    """Missing, or not visible to the caller: both look the same on purpose."""

    status = 404
    code = "not_found"


class Conflict(BankdeskError):
    """The request is well formed but clashes with the current state."""

    status = 409
    code = "conflict"


class PermissionDenied(BankdeskError):
    """Only for actions on objects the caller may see but not change."""

    status = 403
    code = "forbidden"


class RateLimited(BankdeskError):
    status = 429
    code = "rate_limited"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many requests; retry after {retry_after} seconds")
        self.retry_after = retry_after
        self.headers = {"Retry-After": str(retry_after)}
