"""Intake: every channel's messages onto the one service centre, and replies back out.

`inbound_receive` is the one door in: dedupe on (channel, external id) → the customer behind
the sender → the case the message continues, or a new one (routed, clocks started) → the
message and its attachments, all in one transaction. `case_reply` is the one door out: the
staff reply and its outbox entry are written together, so a reply is never recorded without
being sent, nor sent without being recorded.
"""

from __future__ import annotations

import io
import json
import random
import re
import time
from dataclasses import dataclass

from django.db import OperationalError, connection, transaction
from django.utils import timezone

from bankdesk.customers.choices import IdentityKind
from bankdesk.customers.models import Customer, Identity
from bankdesk.intake.channels.base import (
    ATTACHMENTS_MAX,
    EXTERNAL_ID_MAX,
    InboundMessage,
)
from bankdesk.intake.choices import IntakeOutcome
from bankdesk.intake.errors import MalformedPayload
from bankdesk.intake.identity import customer_for_contact
from bankdesk.intake.models import ChannelEndpoint, OutboxMessage
from bankdesk.lib.channels import Channel
from bankdesk.lib.errors import InvalidInput
from bankdesk.lib.languages import Language
from bankdesk.lib.text import is_storable
from bankdesk.staff.models import Branch, User
from bankdesk.tickets.attachments import attachment_add
from bankdesk.tickets.choices import CaseStatus, Direction
from bankdesk.tickets.errors import DuplicateMessage
from bankdesk.tickets.models import Case, Conversation, Message
from bankdesk.tickets.selectors import thread_case
from bankdesk.tickets.services import case_create, case_message_add, case_status_change

SUBJECT_FROM_TEXT = 60
RETRIES = 5
# The case number as bankdesk writes it into subjects: [C20260000123].
CASE_TOKEN = re.compile(r"\[(C\d{11})\]")
# Which identity a channel's replies go to.
REPLY_IDENTITY: dict[str, str] = {
    Channel.EMAIL: IdentityKind.EMAIL,
    Channel.WECHAT: IdentityKind.WECHAT_OPENID,
    Channel.ALIPAY: IdentityKind.ALIPAY_USER_ID,
    Channel.SMS: IdentityKind.PHONE,
}


@dataclass(frozen=True)
class IntakeResult:
    outcome: str  # IntakeOutcome
    case: Case | None
    message: Message | None


def case_token(case: Case) -> str:
    return f"[{case.number}]"


_TEXT_FIELDS = (
    "external_id",
    "text",
    "html",
    "subject",
    "sender_value",
    "sender_name",
    "thread_id",
    "case_number",
    "branch_code",
)


def _storable(value: object) -> bool:
    """Every string in a channel's value, however nested, is one the database can store."""
    if isinstance(value, str):
        return is_storable(value)
    if isinstance(value, dict):
        return all(_storable(key) and _storable(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return all(_storable(item) for item in value)
    return True


def _unstorable_field(inbound: InboundMessage) -> str | None:
    """The first field holding what the database would refuse (NUL from a provider, a broken
    mail): refused here by name, not met as a database error after half the work is done."""
    for name in _TEXT_FIELDS:
        if not is_storable(getattr(inbound, name)):
            return name
    if not _storable(inbound.replies_to):
        return "replies_to"
    if not _storable([(item.filename, item.content_type) for item in inbound.attachments]):
        return "attachments"
    if not _storable(inbound.metadata):
        return "metadata"
    return None


def _check(inbound: InboundMessage) -> None:
    unstorable = _unstorable_field(inbound)
    if unstorable is not None:
        raise MalformedPayload(
            f"{unstorable} holds a NUL character or half a surrogate pair", field=unstorable
        )
    if inbound.channel not in Channel.values:
        raise MalformedPayload("unknown channel", field="channel")
    if not inbound.external_id or len(inbound.external_id) > EXTERNAL_ID_MAX:
        raise MalformedPayload(
            f"a message id of 1–{EXTERNAL_ID_MAX} characters is required", field="external_id"
        )
    if not inbound.text.strip() and not inbound.attachments:
        raise MalformedPayload("the message has neither text nor attachments", field="text")
    if len(inbound.attachments) > ATTACHMENTS_MAX:
        raise MalformedPayload(f"at most {ATTACHMENTS_MAX} attachments", field="attachments")
    if inbound.language and inbound.language not in Language.values:
        raise MalformedPayload("unknown language", field="language")


def _surviving(case: Case) -> Case:
    """Follow merges to the case that lives on."""
    seen = {case.pk}
    while case.merged_into_id is not None and case.merged_into_id not in seen:
        seen.add(case.merged_into_id)
        case = Case.objects.get(pk=case.merged_into_id)
    return case


def _belongs(case: Case, customer: Customer | None) -> bool:
    """A message may continue a case only if it comes from that case's customer (or neither
    side is known): quoting someone else's case number must not put words in their case."""
    return case.customer_id is None or customer is None or case.customer_id == customer.pk


def _continued_case(inbound: InboundMessage, customer: Customer | None) -> Case | None:
    """The case this message continues: the message it answers, a quoted case number, or the
    channel's thread. A closed case is final: a new message after it opens a new case."""
    candidates: list[Case] = []
    if inbound.replies_to:
        answered = (
            Message.objects.filter(channel=inbound.channel, external_id__in=inbound.replies_to)
            .select_related("case")
            .order_by("-id")
            .first()
        )
        if answered is not None:
            candidates.append(answered.case)
    number = inbound.case_number or next(iter(CASE_TOKEN.findall(inbound.subject)), "")
    if number:
        quoted = Case.objects.filter(number=number).first()
        if quoted is not None:
            candidates.append(quoted)
    if inbound.thread_id:
        on_thread = thread_case(inbound.channel, inbound.thread_id)
        if on_thread is not None:
            candidates.append(on_thread)
    for candidate in candidates:
        case = _surviving(candidate)
        if case.status != CaseStatus.CLOSED and _belongs(case, customer):
            return case
    return None


def _customer(inbound: InboundMessage) -> Customer | None:
    if inbound.customer_id is not None:
        return Customer.objects.filter(pk=inbound.customer_id).first()
    return customer_for_contact(
        kind=inbound.sender_kind, value=inbound.sender_value, name=inbound.sender_name
    )


def _subject(inbound: InboundMessage) -> str:
    subject = CASE_TOKEN.sub("", inbound.subject).strip()
    if subject:
        return subject[:200]
    text = " ".join(inbound.text.split())
    return (text[:SUBJECT_FROM_TEXT] or "附件").strip()


def _duplicate(inbound: InboundMessage) -> IntakeResult | None:
    existing = (
        Message.objects.filter(channel=inbound.channel, external_id=inbound.external_id)
        .select_related("case")
        .first()
    )
    if existing is None:
        return None
    return IntakeResult(IntakeOutcome.DUPLICATE, existing.case, existing)


@transaction.atomic
def _receive(inbound: InboundMessage) -> IntakeResult:
    duplicate = _duplicate(inbound)
    if duplicate is not None:
        return duplicate
    customer = _customer(inbound)
    case = _continued_case(inbound, customer)
    text = inbound.text.strip() or "（附件）"
    if inbound.is_automatic and (case is None or case.status == CaseStatus.RESOLVED):
        return IntakeResult(IntakeOutcome.IGNORED, case, None)
    if case is None:
        case = case_create(
            subject=_subject(inbound),
            channel=inbound.channel,
            actor=None,
            customer=customer,
            language=inbound.language or (customer.preferred_language if customer else "zh-hans"),
            text=text,
            html=inbound.html,
            external_id=inbound.external_id,
            external_thread_id=inbound.thread_id,
            branch=Branch.objects.filter(code=inbound.branch_code).first()
            if inbound.branch_code
            else None,
            route=True,
        )
        message = case.messages.get()
        outcome = IntakeOutcome.NEW_CASE
    else:
        outcome = IntakeOutcome.ADDED
        if case.status == CaseStatus.RESOLVED:
            case = case_status_change(
                case=case, status=CaseStatus.OPEN, actor=None, reason="the customer wrote again"
            )
            outcome = IntakeOutcome.REOPENED
        message = case_message_add(
            case=case,
            direction=Direction.INBOUND,
            text=text,
            html=inbound.html,
            channel=inbound.channel,
            external_id=inbound.external_id,
            external_thread_id=inbound.thread_id,
            actor=None,
        )
    for attachment in inbound.attachments:
        attachment_add(
            message=message,
            upload=io.BytesIO(attachment.content),
            filename=attachment.filename,
            declared_type=attachment.content_type,
            actor=None,
        )
    return IntakeResult(outcome, case, message)


def _is_retryable(exc: OperationalError) -> bool:
    """The database gave up on a lock (a PostgreSQL deadlock or serialisation failure, SQLite
    busy beyond its timeout): the aborted attempt left nothing behind, so it is safe to redo."""
    code = getattr(exc.__cause__, "sqlstate", None)
    return code in {"40P01", "40001"} or "database is locked" in str(exc)


def inbound_receive(inbound: InboundMessage) -> IntakeResult:
    """Take one customer message from any channel. The same (channel, external id) a second
    time — a provider's retry, two pollers overlapping — changes nothing and says so.

    A transaction the database aborted to break a deadlock is redone (a few times, after a
    short random pause): the whole message is in one transaction, so nothing half-done stays.
    Inside a caller's transaction there is nothing to redo: the error goes to the caller.
    """
    _check(inbound)
    for attempt in range(RETRIES + 1):
        try:
            return _receive(inbound)
        except DuplicateMessage:  # the same message arrived twice at the same moment
            duplicate = _duplicate(inbound)
            if duplicate is None:
                raise
            return duplicate
        except OperationalError as exc:
            if attempt == RETRIES or connection.in_atomic_block or not _is_retryable(exc):
                raise
            time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))  # noqa: S311 - jitter
    raise AssertionError("unreachable")


# -- replies --------------------------------------------------------------------------------


def _reply_channel(case: Case, customer: Customer | None) -> str:
    """The customer's stated preference when we can reach them there, else the channel of
    their latest message, else the case's own."""
    if customer is not None and customer.preferred_channel:
        preferred = customer.preferred_channel
        kind = REPLY_IDENTITY.get(preferred)
        if kind is None or customer.identities.filter(kind=kind).exists():
            return preferred
    latest = (
        Message.objects.filter(case=case, direction=Direction.INBOUND)
        .order_by("-id")
        .values_list("channel", flat=True)
        .first()
    )
    return latest or case.channel


def _recipient(case: Case, channel: str, customer: Customer | None) -> str:
    kind = REPLY_IDENTITY.get(channel)
    if kind is not None and customer is not None:
        identity = Identity.objects.filter(customer=customer, kind=kind).order_by("id").first()
        if identity is not None:
            return identity.value
    thread = (
        Conversation.objects.filter(case=case, channel=channel)
        .exclude(external_thread_id="")
        .order_by("-id")
        .values_list("external_thread_id", flat=True)
        .first()
    )
    if thread:
        return thread
    raise InvalidInput(f"there is no {channel} address to reply to", field="channel")


def outbox_enqueue(
    *, case: Case, message: Message | None, channel: str, recipient: str, payload: dict[str, object]
) -> OutboxMessage:
    """Queue one outbound message in the caller's transaction; the worker sends it after."""
    endpoint = (
        ChannelEndpoint.objects.filter(channel=channel, is_active=True).order_by("id").first()
    )
    item = OutboxMessage.objects.create(
        endpoint=endpoint,
        channel=channel,
        case=case,
        message=message,
        recipient=recipient,
        payload=json.dumps(payload, ensure_ascii=False),
        next_attempt_at=timezone.now(),
    )
    transaction.on_commit(_deliver_soon)
    return item


def _deliver_soon() -> None:
    from bankdesk.intake.tasks import outbox_deliver_run  # the task module imports services

    outbox_deliver_run.enqueue()


@transaction.atomic
def case_reply(
    *, case: Case, text: str, actor: User, channel: str | None = None
) -> tuple[Message, OutboxMessage | None]:
    """A staff reply to the customer, sent on the channel they use. Channels without a way
    back (a branch visit, a phone call) record the reply only."""
    customer = case.customer
    channel = channel or _reply_channel(case, customer)
    if channel not in Channel.values:
        raise InvalidInput("unknown channel", field="channel")
    message = case_message_add(
        case=case, direction=Direction.OUTBOUND, text=text, actor=actor, channel=channel
    )
    if channel in {Channel.PHONE, Channel.BRANCH, Channel.TERMINAL, Channel.API}:
        return message, None
    recipient = _recipient(case, channel, customer)
    last_inbound = (
        Message.objects.filter(case=case, channel=channel, direction=Direction.INBOUND)
        .exclude(external_id=None)
        .order_by("-id")
        .values_list("external_id", flat=True)
        .first()
    )
    payload: dict[str, object] = {
        "text": message.text,
        "subject": f"Re: {case.subject} {case_token(case)}",
        "case_number": case.number,
        "in_reply_to": last_inbound or "",
    }
    item = outbox_enqueue(
        case=case, message=message, channel=channel, recipient=recipient, payload=payload
    )
    return message, item
