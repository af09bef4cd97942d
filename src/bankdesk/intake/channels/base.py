"""The one shape every channel takes.

Inbound: a channel's sub-package turns what its provider sends (an e-mail, WeChat XML, an Alipay
notification, a call record) into an `InboundMessage` and hands it to
`intake.services.inbound_receive`, which dedupes, recognises the customer and puts it on a case.

Outbound: a reply becomes an `OutboxMessage`; the worker hands it to the channel's adapter,
whose `deliver` sends it with the message's idempotency key and returns the provider's id, or
raises `DeliveryFailed` (permanent when retrying cannot help). Any other exception is counted
as a failed attempt of that message alone and retried like a temporary refusal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from bankdesk.intake.models import ChannelEndpoint, OutboxMessage

EXTERNAL_ID_MAX = 255
ATTACHMENTS_MAX = 20


@dataclass(frozen=True)
class InboundAttachment:
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class InboundMessage:
    """One message from a customer, as every channel hands it over.

    `external_id` is the provider's own id for the message (Message-ID, MsgId …): the same id
    on the same channel is the same message, however often it arrives.
    """

    channel: str
    external_id: str
    text: str = ""
    html: str = ""
    subject: str = ""
    # Who sent it, as an identity kind and value (phone, email, wechat_openid, alipay_user_id);
    # empty when the channel does not say.
    sender_kind: str = ""
    sender_value: str = ""
    sender_name: str = ""
    # A customer the channel has already identified (a signed token from the bank's app).
    customer_id: int | None = None
    # The channel's conversation (a chat session, an e-mail thread root, an openid).
    thread_id: str = ""
    # Ids of earlier messages this one answers (In-Reply-To and References).
    replies_to: tuple[str, ...] = ()
    # A case number the customer quoted (a token in an e-mail subject).
    case_number: str = ""
    language: str = ""
    received_at: datetime | None = None
    # Auto-replies, bounces, list mail: never open or reopen a case, never answered.
    is_automatic: bool = False
    attachments: tuple[InboundAttachment, ...] = ()
    endpoint_id: int | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    # The branch (staff.Branch code) a walk-in or terminal message was raised at: a new case
    # records it, and its clocks run on that branch's calendar.
    branch_code: str = ""


class ChannelAdapter:
    """Sends outbound messages for one channel. Subclasses live in `intake/channels/<kind>/`."""

    channel: ClassVar[str]

    def deliver(self, item: OutboxMessage, endpoint: ChannelEndpoint | None) -> str:
        """Send one message; return the provider's id for it. Must pass
        `item.idempotency_key` to the provider on every attempt."""
        raise NotImplementedError

    def message_reference(self, item: OutboxMessage, endpoint: ChannelEndpoint | None) -> str:
        """The id the message will carry when the bank, not the provider, chooses it (an
        e-mail's Message-ID); empty otherwise. The outbox keeps it on the message before the
        first attempt as `provider_message_id`, and every attempt must then send that one."""
        return ""
