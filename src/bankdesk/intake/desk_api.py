"""What staff do with what channels bring: reply on the customer's channel, send a given-up
reply again, and fold a provisional contact into the customer it turned out to be."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from bankdesk.customers.access import access_customer_by_id
from bankdesk.intake.identity import customer_merge_provisional
from bankdesk.intake.outbox import outbox_retry
from bankdesk.intake.services import case_reply
from bankdesk.lib.api import Id, RequiredText, error_responses
from bankdesk.lib.channels import Channel
from bankdesk.staff.auth import request_staff, require_perm
from bankdesk.tickets.access import access_case_by_id
from bankdesk.tickets.schemas import MessageOut, message_out

reply_router = Router(tags=["cases"])
merge_router = Router(tags=["customers"])


class ReplyIn(Schema):
    text: RequiredText(100_000)  # type: ignore[valid-type]
    channel: Channel | None = Field(
        default=None, description="Empty: the customer's preference, else their last channel"
    )


class ReplyOut(Schema):
    message: MessageOut
    outbox_id: int | None = Field(description="Empty when the channel has no way back")
    channel: str


@reply_router.post(
    "/{case_id}/reply",
    response={201: ReplyOut, **error_responses(404, 409)},
    summary="Answer the customer on their channel (sent by the worker through the outbox)",
)
def case_reply_post(request: HttpRequest, case_id: Id, payload: ReplyIn) -> Status[dict[str, Any]]:
    user = request_staff(request)
    case = access_case_by_id(user, case_id, change=True)
    message, item = case_reply(
        case=case, text=payload.text, actor=user, channel=payload.channel or None
    )
    return Status(
        201,
        {
            "message": message_out(message),
            "outbox_id": item.pk if item else None,
            "channel": message.channel,
        },
    )


class DeliveryRetriedOut(Schema):
    outbox_id: int
    status: str


@reply_router.post(
    "/{case_id}/messages/{message_id}/delivery/retry",
    response={200: DeliveryRetriedOut, **error_responses(404, 409)},
    summary="Send a reply the outbox gave up again (supervisors), once its cause is fixed",
)
def case_reply_retry(request: HttpRequest, case_id: Id, message_id: Id) -> dict[str, Any]:
    user = request_staff(request)
    case = access_case_by_id(user, case_id, change=True)
    require_perm(user, "intake.retry_outboxmessage")
    item = outbox_retry(case=case, message_id=message_id, actor=user)
    return {"outbox_id": item.pk, "status": item.status}


class MergeCustomerIn(Schema):
    into_customer_id: Id
    reason: RequiredText(500)  # type: ignore[valid-type]


class MergedOut(Schema):
    customer_id: int
    customer_number: str


@merge_router.post(
    "/{customer_id}/merge",
    response={200: MergedOut, **error_responses(404)},
    summary="Fold a provisional contact into the customer it turned out to be (audited)",
)
def customer_merge(
    request: HttpRequest, customer_id: Id, payload: MergeCustomerIn
) -> dict[str, Any]:
    user = request_staff(request)
    source = access_customer_by_id(user, customer_id)
    target = access_customer_by_id(user, payload.into_customer_id)
    require_perm(user, "customers.merge_customer")
    merged = customer_merge_provisional(
        source=source, target=target, actor=user, reason=payload.reason
    )
    return {"customer_id": merged.pk, "customer_number": merged.customer_number}
