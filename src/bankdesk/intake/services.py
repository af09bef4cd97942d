"""Intake: every channel's messages onto the one service centre, and replies back out.

`inbound_receive` is the one door in: dedupe on (channel, external id) → the customer behind
the sender → the case the message continues, or a new one (routed, clocks started) → the
message and its attachments, all in one transaction. `case_reply` is the one door out: the
staff reply and its outbox entry are written together, so a reply is never recorded without
being sent, nor sent without being recorded.

A message continues a case only on proof that its writer may: the case's own customer wrote it,
the channel's thread vouches for the sender (a chat session, an openid, a phone number), or it
carries the reply token the bank sent with its reply on that case. What the sender merely
claims — a quoted case number, the id of a message it answers, an e-mail thread — continues
only the sender's own cases; a message claiming another's opens a case of its own, linked to
the one it named so staff see both, and the named case is left exactly as it was.
"""

from __future__ import annotations

import dataclasses
import io
import json
import random
import re
import time
from dataclasses import dataclass

from django.db import OperationalError, connection, transaction
from django.utils import timezone

from bankdesk.assistant.signals import read_signals
from bankdesk.customers.choices import IdentityKind
from bankdesk.customers.errors import InvalidIdentity
from bankdesk.customers.models import Customer, Identity
from bankdesk.customers.normalise import identity_blind_index
from bankdesk.intake.channels.base import (
    ATTACHMENTS_MAX,
    DIGEST_ID_PREFIX,
    EXTERNAL_ID_MAX,
    REPLIES_TO_MAX,
    InboundMessage,
)
from bankdesk.intake.choices import IntakeOutcome
from bankdesk.intake.errors import MalformedPayload, ReplyTooLong
from bankdesk.intake.identity import PROVISIONAL_NAME_MAX, customer_for_contact
from bankdesk.intake.models import ChannelEndpoint, OutboxMessage
from bankdesk.intake.reply_tokens import (
    TOKEN,
    reply_token_case,
    reply_token_issue,
    reply_token_number,
)
from bankdesk.lib.channels import Channel, reply_excess
from bankdesk.lib.errors import InvalidInput
from bankdesk.lib.languages import Language
from bankdesk.lib.text import is_one_line, is_storable, one_line
from bankdesk.staff.models import Branch, User
from bankdesk.tickets.attachments import attachment_add
from bankdesk.tickets.choices import CaseStatus, DeliveryStatus, Direction
from bankdesk.tickets.errors import DuplicateMessage
from bankdesk.tickets.models import Case, Conversation, Message
from bankdesk.tickets.selectors import thread_case
from bankdesk.tickets.services import (
    case_complaint_mark,
    case_contact_not_on_file_record,
    case_create,
    case_link,
    case_message_add,
    case_status_change,
    message_delivery_record,
)
from bankdesk.tickets.threads import is_thread_index, thread_identity_lookup

SUBJECT_FROM_TEXT = 60
SUBJECT_MAX = 998  # RFC 5322's longest line; a case keeps the first 200 characters
RETRIES = 5
# The case number as bankdesk writes it into subjects: [C20260000123].
CASE_TOKEN = re.compile(r"\[(C\d{11})\]")
CASE_NUMBER = re.compile(r"C\d{11}")
# Channels whose thread id the sender writes (an e-mail thread is built from its References):
# there it is a claim, like a quoted case number. Elsewhere the channel vouches for it.
SENDER_CHOSEN_THREADS = frozenset({Channel.EMAIL})
# Channels with no way back: a reply there is the record of what was said (on the call, at the
# counter), not a message sent.
RECORD_ONLY = frozenset({Channel.PHONE, Channel.BRANCH, Channel.TERMINAL, Channel.API})
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


# Subject and sender name are not here: they are kept as one clean line, control characters
# (NUL among them) and lone surrogates turned into spaces, so they never need refusing.
_TEXT_FIELDS = (
    "external_id",
    "text",
    "html",
    "sender_value",
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


def _check_id(value: str, field: str) -> None:
    """An id that may later go into a reply's header or a provider's payload: one line, bounded."""
    if not value or len(value) > EXTERNAL_ID_MAX or not is_one_line(value):
        raise MalformedPayload(
            f"an id of 1–{EXTERNAL_ID_MAX} characters, without line breaks or control "
            "characters, is required",
            field=field,
        )


def _check(inbound: InboundMessage) -> None:
    unstorable = _unstorable_field(inbound)
    if unstorable is not None:
        raise MalformedPayload(
            f"{unstorable} holds a NUL character or half a surrogate pair", field=unstorable
        )
    if inbound.channel not in Channel.values:
        raise MalformedPayload("unknown channel", field="channel")
    _check_id(inbound.external_id, "external_id")
    if inbound.thread_id:
        _check_id(inbound.thread_id, "thread_id")
    if len(inbound.replies_to) > REPLIES_TO_MAX:
        raise MalformedPayload(f"at most {REPLIES_TO_MAX} answered ids", field="replies_to")
    for answered in inbound.replies_to:
        _check_id(answered, "replies_to")
    if inbound.case_number and not CASE_NUMBER.fullmatch(inbound.case_number):
        raise MalformedPayload("not a case number", field="case_number")
    if inbound.reply_token and not TOKEN.fullmatch(inbound.reply_token):
        raise MalformedPayload("not a reply token", field="reply_token")
    if not inbound.text.strip() and not inbound.attachments:
        raise MalformedPayload("the message has neither text nor attachments", field="text")
    if len(inbound.attachments) > ATTACHMENTS_MAX:
        raise MalformedPayload(f"at most {ATTACHMENTS_MAX} attachments", field="attachments")
    if inbound.language and inbound.language not in Language.values:
        raise MalformedPayload("unknown language", field="language")


def _one_line_headers(inbound: InboundMessage) -> InboundMessage:
    """The subject and the sender's name as one clean line each: they become the case's subject
    and a provisional customer's name, and the subject goes back out in the bank's replies."""
    subject = one_line(inbound.subject, SUBJECT_MAX)
    sender_name = one_line(inbound.sender_name, PROVISIONAL_NAME_MAX)
    if (subject, sender_name) == (inbound.subject, inbound.sender_name):
        return inbound
    return dataclasses.replace(inbound, subject=subject, sender_name=sender_name)


def _surviving(case: Case) -> Case:
    """Follow merges to the case that lives on."""
    seen = {case.pk}
    while case.merged_into_id is not None and case.merged_into_id not in seen:
        seen.add(case.merged_into_id)
        case = Case.objects.get(pk=case.merged_into_id)
    return case


@dataclass(frozen=True)
class _Continuation:
    """Where a message goes: the case it may continue, if any; whether it came in on the reply
    token from a contact not on that case's customer's file; and the cases it named but may not
    continue, which a new case is linked to."""

    case: Case | None = None
    is_contact_on_file: bool = True
    refused: tuple[Case, ...] = ()


def _is_customers_own(case: Case, customer: Customer | None) -> bool:
    return customer is not None and case.customer_id == customer.pk


def _on_thread(case: Case, customer: Customer | None) -> bool:
    """A thread the channel vouches for continues its case unless the sender is known to be
    someone other than the case's customer (a number moved to another customer since)."""
    return case.customer_id is None or customer is None or case.customer_id == customer.pk


def _claimed_cases(inbound: InboundMessage) -> list[tuple[Case, bool]]:
    """The cases a message points at, nearest first, each with whether the channel vouches for
    the pointer (True) or the sender merely claims it (False)."""
    found: list[tuple[Case, bool]] = []
    if inbound.replies_to:
        answered = (
            Message.objects.filter(channel=inbound.channel, external_id__in=inbound.replies_to)
            .select_related("case")
            .order_by("-id")
            .first()
        )
        if answered is not None:
            found.append((answered.case, False))
    numbers = [
        reply_token_number(inbound.reply_token),  # a token that did not verify is only a quote
        inbound.case_number,
        *CASE_TOKEN.findall(inbound.subject),
    ]
    for number in dict.fromkeys(number for number in numbers if number):
        quoted = Case.objects.filter(number=number).first()
        if quoted is not None:
            found.append((quoted, False))
    if inbound.thread_id:
        on_thread = thread_case(inbound.channel, inbound.thread_id)
        if on_thread is not None:
            found.append((on_thread, inbound.channel not in SENDER_CHOSEN_THREADS))
    return found


def _continued_case(inbound: InboundMessage, customer: Customer | None) -> _Continuation:
    """The case this message continues, on proof that its writer may (see the module's
    docstring). A closed case is final: a new message after it opens a new case."""
    if inbound.reply_token and customer is not None:
        signed_for = reply_token_case(inbound.reply_token)
        if signed_for is not None:
            case = _surviving(signed_for)
            if case.status != CaseStatus.CLOSED:
                return _Continuation(case, is_contact_on_file=_is_customers_own(case, customer))
    refused: dict[int, Case] = {}
    for candidate, is_vouched in _claimed_cases(inbound):
        case = _surviving(candidate)
        may_continue = (
            _on_thread(case, customer) if is_vouched else _is_customers_own(case, customer)
        )
        if not may_continue:
            refused.setdefault(case.pk, case)
        elif case.status != CaseStatus.CLOSED:
            return _Continuation(case)
    return _Continuation(refused=tuple(refused.values()))


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
    continuation = _continued_case(inbound, customer)
    case = continuation.case
    text = inbound.text.strip() or "（附件）"
    if inbound.is_automatic and (case is None or case.status == CaseStatus.RESOLVED):
        return IntakeResult(IntakeOutcome.IGNORED, case, None)
    # A customer who says in so many words that they complain has made a complaint, on
    # whatever channel and whoever reads it (assistant.signals: the words, not a model).
    complains = not inbound.is_automatic and bool(read_signals(text).complaint)
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
            is_complaint=complains,
            complaint_on="customer",
        )
        message = case.messages.get()
        outcome = IntakeOutcome.NEW_CASE
        for named in continuation.refused:
            # The new case is routed on its own merits above: naming a complaint does not put
            # it on the complaint's team, nor show it anything of the complaint but its number.
            case_link(case=case, referred=named, actor=None)
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
        if not continuation.is_contact_on_file:
            case_contact_not_on_file_record(case=case, message=message, contact=customer)
        if complains and not case.is_complaint:
            case = case_complaint_mark(case=case, actor=None, on="customer")
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
    inbound = _one_line_headers(inbound)
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


def case_reply_channels(case: Case) -> list[str]:
    """The channels a staff reply on `case` can go by, the usual one first: where the customer
    last wrote; then each channel the customer has an address for (e-mail, WeChat, Alipay, SMS);
    then the case's own threads on channels whose thread is the address (a chat session)."""
    channels: list[str] = []
    last = (
        Message.objects.filter(case=case, direction=Direction.INBOUND)
        .order_by("-id")
        .values_list("channel", flat=True)
        .first()
    )
    if last:
        channels.append(last)
    if case.customer_id is not None:
        kinds = set(
            Identity.objects.filter(customer_id=case.customer_id).values_list("kind", flat=True)
        )
        channels += [c for c, kind in REPLY_IDENTITY.items() if kind in kinds and c not in channels]
    threads = (
        Conversation.objects.filter(case=case)
        .exclude(external_thread_id="")
        .values_list("channel", "external_thread_id")
    )
    channels += [
        channel
        for channel, thread in threads
        if channel not in REPLY_IDENTITY
        and channel not in channels
        and channel not in RECORD_ONLY
        and not is_thread_index(thread)
    ]
    return channels


def _recipient(case: Case, channel: str, customer: Customer | None) -> str:
    """Where a reply on `channel` goes: on a channel that answers an identity, the customer's
    identity of that kind — the very one they wrote from on this case, whose blind index the
    thread is; on the others the thread itself, which is the address (a web chat session, a
    social author). An e-mail thread root or a thread's blind index is never an address."""
    thread = (
        Conversation.objects.filter(case=case, channel=channel)
        .exclude(external_thread_id="")
        .order_by("-id")
        .values_list("external_thread_id", flat=True)
        .first()
    ) or ""
    kind = REPLY_IDENTITY.get(channel)
    if kind is not None and customer is not None:
        identities = Identity.objects.filter(customer=customer, kind=kind).order_by("id")
        lookup = thread_identity_lookup(thread)
        identity = (
            identities.filter(lookup=lookup).first() if lookup is not None else None
        ) or identities.first()
        if identity is not None:
            return identity.value
    if kind is None and thread and not is_thread_index(thread):
        return thread
    raise InvalidInput(f"there is no {channel} address to reply to", field="channel")


def case_reply_address(case: Case, channel: str) -> str:
    """Where a message on `channel` reaches the case's customer (InvalidInput when nowhere)."""
    return _recipient(case, channel, case.customer)


def customer_address(customer: Customer, channel: str) -> str:
    """Where a message on `channel` reaches the customer outside any case (an invitation, a
    notice about their booking): their identity of the channel's kind, a verified one first
    (InvalidInput when they have none)."""
    kind = REPLY_IDENTITY.get(channel)
    identity = (
        Identity.objects.filter(customer=customer, kind=kind).order_by("-is_verified", "id").first()
        if kind is not None
        else None
    )
    if identity is None:
        raise InvalidInput(f"there is no {channel} address for the customer", field="channel")
    return identity.value


def outbox_enqueue(
    *,
    case: Case | None,
    message: Message | None,
    channel: str,
    recipient: str,
    payload: dict[str, object],
) -> OutboxMessage:
    """Queue one outbound message in the caller's transaction; the worker sends it after.
    No case: a message about something other than a matter the customer raised."""
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
    if message is not None:
        message_delivery_record(message=message, status=DeliveryStatus.QUEUED)
    transaction.on_commit(_deliver_soon)
    return item


def _deliver_soon() -> None:
    from bankdesk.intake.tasks import outbox_deliver_run  # the task module imports services

    outbox_deliver_run.enqueue()


def _reply_token(case: Case, address: str) -> str:
    """The token the customer's answer to this e-mail will carry back, signed for the address
    it goes to; none for an address that is not one (nothing could answer from it)."""
    try:
        lookup = identity_blind_index(IdentityKind.EMAIL, address)
    except InvalidIdentity:
        return ""
    return reply_token_issue(case=case, recipient_lookup=lookup)


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
    excess = reply_excess(channel, text.strip())
    if excess is not None:
        limit, size, unit = excess
        raise ReplyTooLong(channel=channel, limit=limit, size=size, unit=unit)
    message = case_message_add(
        case=case, direction=Direction.OUTBOUND, text=text, actor=actor, channel=channel
    )
    if channel in RECORD_ONLY:
        return message, None
    recipient = _recipient(case, channel, customer)
    last_inbound = (
        Message.objects.filter(case=case, channel=channel, direction=Direction.INBOUND)
        .exclude(external_id=None)
        .exclude(external_id__startswith=DIGEST_ID_PREFIX)  # bankdesk's, not the customer's
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
    if channel == Channel.EMAIL:
        token = _reply_token(case, recipient)
        if token:
            payload["reply_token"] = token
    item = outbox_enqueue(
        case=case, message=message, channel=channel, recipient=recipient, payload=payload
    )
    return message, item
