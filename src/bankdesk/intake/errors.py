from bankdesk.lib.errors import (
    BankdeskError,
    Conflict,
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
