"""One received e-mail onto a case, whichever way it came in (the SMTP receiver, IMAP polling).

The bank's e-mail endpoints say which addresses are its own. Mail from one of them is bankdesk's
own reply coming back (a forwarding rule, a mailbox copying to itself): it is dropped here, before
it can reach a case, so two mailboxes can never answer each other in a loop.
"""

from __future__ import annotations

import dataclasses
import logging

from bankdesk.intake.channels.base import InboundMessage
from bankdesk.intake.channels.email.parse import email_parse
from bankdesk.intake.channels.email.reply_ids import answered_replies
from bankdesk.intake.choices import IntakeOutcome
from bankdesk.intake.models import ChannelEndpoint, OutboxMessage
from bankdesk.intake.services import IntakeResult, inbound_receive
from bankdesk.lib.channels import Channel

logger = logging.getLogger(__name__)


def endpoint_addresses(endpoint: ChannelEndpoint) -> list[str]:
    """The mailbox addresses an e-mail endpoint receives at and sends from, lower-cased."""
    addresses = endpoint.settings.get("addresses") or []
    if isinstance(addresses, str):
        addresses = [addresses]
    found = [str(address).strip().lower() for address in addresses if str(address).strip()]
    sender = str(endpoint.settings.get("from") or "").strip().lower()
    if sender and sender not in found:
        found.append(sender)
    return found


def own_addresses() -> set[str]:
    """Every address bankdesk sends from, on any e-mail endpoint, switched on or off."""
    addresses: set[str] = set()
    for endpoint in ChannelEndpoint.objects.filter(channel=Channel.EMAIL):
        addresses.update(endpoint_addresses(endpoint))
    return addresses


def _answered(inbound: InboundMessage) -> InboundMessage:
    """What the bank's own replies among the mails this one answers tell: the reply token they
    carry (proof of the case), and the case of the nearest one (a claim, like a quoted number,
    which is all a reply sent before reply tokens can give)."""
    tokens, keys = answered_replies(inbound.replies_to)
    case_number = inbound.case_number
    if not case_number and keys:
        answered = (
            OutboxMessage.objects.filter(channel=Channel.EMAIL, idempotency_key__in=keys)
            .exclude(case=None)
            .select_related("case")
            .order_by("-id")
            .first()
        )
        if answered is not None and answered.case is not None:
            case_number = answered.case.number
    return dataclasses.replace(
        inbound, case_number=case_number, reply_token=tokens[0] if tokens else ""
    )


def email_receive(
    raw: bytes,
    *,
    endpoint: ChannelEndpoint | None = None,
    envelope_sender: str | None = None,
) -> IntakeResult:
    """Take one e-mail from a customer; raises MalformedPayload for mail that cannot be read."""
    inbound = email_parse(
        raw,
        own_addresses=own_addresses(),
        envelope_sender=envelope_sender,
        endpoint_id=endpoint.pk if endpoint is not None else None,
    )
    if inbound.metadata.get("automatic_reason") == "own_address":
        logger.info("e-mail from bankdesk's own address ignored: %s", inbound.external_id)
        return IntakeResult(IntakeOutcome.IGNORED, None, None)
    return inbound_receive(_answered(inbound))
