from bankdesk.lib.errors import (
    BankdeskError,
    Conflict,
    InvalidInput,
    MalformedInput,
    NotFound,
    PermissionDenied,
)


class EndpointNotFound(NotFound):
    code = "channel_endpoint_not_found"


class BadSignature(PermissionDenied):
    """A webhook whose signature does not verify: nothing from it is stored."""

    code = "bad_signature"


class MalformedPayload(MalformedInput):
    """A payload that cannot be read (bad XML, bad JSON, a broken e-mail): 400, nothing kept."""


class DeliveryFailed(BankdeskError):
    """A provider refused or could not take an outbound message."""

    code = "delivery_failed"

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class NotGivenUp(Conflict):
    """Only a reply the outbox gave up can be sent again: one still on its way is retried
    by the worker, and a sent one is not sent twice."""

    code = "delivery_not_given_up"


class ReplyTooLong(InvalidInput):
    """A reply longer than its channel carries: refused whole, never cut."""

    code = "reply_too_long"

    def __init__(self, *, channel: str, limit: int, size: int, unit: str) -> None:
        super().__init__(
            f"a {channel} reply carries at most {limit} {unit}; this one has {size}",
            field="text",
        )
        self.channel, self.limit, self.size, self.unit = channel, limit, size, unit
