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
REPLIES_TO_MAX = 50
# An id bankdesk made for a message whose channel gave none it could keep (a digest): it dedupes
# the message, and is never written back into a header as if the customer's program had made it.
DIGEST_ID_PREFIX = "sha256:"


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

    Ids and subjects may later go into the headers and payloads of the bank's replies, so
    `intake.services.inbound_receive` refuses ids with line breaks or control characters and
    keeps subjects and names as one clean line, whichever channel sent them.
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
    # The channel's conversation (a chat session, an e-mail thread root, an openid). A chat
    # session, an openid or a phone number is the channel's own word for who is writing; an
    # e-mail thread is built from headers the sender writes, so it is only the sender's claim.
    thread_id: str = ""
    # Ids of earlier messages this one answers (In-Reply-To and References): a claim.
    replies_to: tuple[str, ...] = ()
    # A case number the customer quoted (a token in an e-mail subject): a claim. Numbers are
    # sequential and printed on every reply, so quoting one proves nothing.
    case_number: str = ""
    # The reply token (intake.reply_tokens) of the bank's message this one answers: proof that
    # its writer received the bank's reply on that case.
    reply_token: str = ""
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
