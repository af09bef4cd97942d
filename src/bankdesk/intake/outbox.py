"""Delivering the outbox: claim, send, record — with retries, backoff, dead letters and
idempotency keys.

A worker claims one message at a time under SKIP LOCKED and holds it for a lease, which it
renews while the send runs. No fixed lease could cover a send: each adapter's timeout bounds
one network operation, not the exchange (an SMTP hand-off is up to seven operations of 30 s,
a WeChat reply up to four calls of 15 s), so a lease sized to a guess lets a second worker
take over a message that is still being sent, and WeChat and Alipay cannot recognise the
resend. The renewed lease means "the worker sending this is alive": when a worker dies its
renewals stop, and the message is tried again one lease later.

Delivery is therefore at least once per provider. A worker that dies after the provider took
a message but before recording it leaves the message to be sent again, with the same
idempotency key (and, for e-mail, the same Message-ID), by which providers that can
deduplicate do so; see docs/channels-delivery.md.

Every attempt counts, whatever ends it: a refusal, a timeout, an error nobody expected, or the
worker dying mid-send. After MAX_ATTEMPTS the message is given up ("dead") and its case shows
the reply as not delivered, with the reason; a supervisor can send it again.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django.utils import timezone

from bankdesk.customers.choices import ConsentPurpose
from bankdesk.customers.profile import consent_allows
from bankdesk.intake.channels.registry import adapter_for
from bankdesk.intake.choices import OutboxStatus
from bankdesk.intake.errors import DeliveryFailed, NotGivenUp
from bankdesk.intake.models import OutboxMessage
from bankdesk.lib.quiet_hours import survey_quiet_hours
from bankdesk.security.audit import audit_record
from bankdesk.staff.models import User
from bankdesk.tickets.choices import DeliveryStatus
from bankdesk.tickets.models import Case
from bankdesk.tickets.services import message_delivery_record

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
FIRST_BACKOFF = timedelta(seconds=10)
MAX_BACKOFF = timedelta(hours=1)
# A send still running after this long is stuck beyond any adapter's timeouts: its lease is no
# longer renewed, so another worker may try the message (and the customer may get it twice).
SEND_LIMIT = timedelta(minutes=10)


@dataclass(frozen=True)
class DeliveryReport:
    sent: int
    retrying: int
    dead: int


def _lease() -> timedelta:
    """How long a claimed message is held, between renewals, before another worker may try it."""
    return timedelta(seconds=settings.BANKDESK_OUTBOX_LEASE_SECONDS)


def backoff(attempts: int) -> timedelta:
    """Exponential, capped, with jitter so a provider outage does not end in a thundering herd."""
    base = min(FIRST_BACKOFF * (2 ** max(attempts - 1, 0)), MAX_BACKOFF)
    return base * random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not a secret


def _held(item_id: int, attempts: int) -> Any:
    """The message, only while the claim numbered `attempts` is still the current one."""
    return OutboxMessage.objects.filter(pk=item_id, status=OutboxStatus.SENDING, attempts=attempts)


def _record(item_id: int, attempts: int, **changes: object) -> bool:
    """Write the result unless another worker has claimed the message since; True if written."""
    return bool(_held(item_id, attempts).update(**changes))


def _message_delivery(item: OutboxMessage, status: str, reason: str = "") -> None:
    """Mirror the outcome on the case's message, in the caller's transaction."""
    if item.message is not None:
        message_delivery_record(
            message=item.message, status=status, reason=reason, attempts=item.attempts
        )


def _give_up(item: OutboxMessage, reason: str) -> bool:
    """Dead-letter a message the caller holds; the case records the reply as not delivered."""
    with transaction.atomic():
        if not _record(item.pk, item.attempts, status=OutboxStatus.DEAD, last_error=reason[:500]):
            return False
        _message_delivery(item, DeliveryStatus.FAILED, reason)
    logger.error("outbox %s given up after %s attempts: %s", item.pk, item.attempts, reason)
    return True


def outbox_claim(*, now: datetime | None = None) -> int | None:
    """Take the next message due for an attempt and hold it for the lease; None when none is.

    A message found still "sending" after its lease ran out lost its last attempt with the
    worker that made it; that attempt counts, and one that has used up its attempts that way
    is given up here rather than sent again.
    """
    now = now or timezone.now()
    while True:
        with transaction.atomic():
            item = (
                # Only the outbox row is locked: the message is read along, never held.
                OutboxMessage.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(
                    status__in=[OutboxStatus.PENDING, OutboxStatus.SENDING],
                    next_attempt_at__lte=now,
                )
                .order_by("next_attempt_at", "id")
                .select_related("message")
                .first()
            )
            if item is None:
                return None
            if item.status == OutboxStatus.SENDING:
                lost = f"attempt {item.attempts} did not finish: the worker sending it stopped"
                logger.warning("outbox %s: %s", item.pk, lost)
                if item.attempts >= MAX_ATTEMPTS:
                    _give_up(item, lost)
                    continue
                item.last_error = lost
            OutboxMessage.objects.filter(pk=item.pk).update(
                status=OutboxStatus.SENDING,
                next_attempt_at=now + _lease(),
                attempts=F("attempts") + 1,
                last_error=item.last_error,
            )
            return item.pk


class _LeaseKeeper:
    """Renews one claimed message's lease while its send runs, from a thread of its own (with
    its own database connection), so a slow provider never hands the message to a second
    worker while a dead worker still releases it one lease later."""

    def __init__(self, item_id: int, attempts: int) -> None:
        self.item_id = item_id
        self.attempts = attempts
        self.stopped = threading.Event()
        self.thread = threading.Thread(
            target=self._run, name=f"outbox-lease-{item_id}", daemon=True
        )

    def __enter__(self) -> _LeaseKeeper:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self.thread.join()

    def _run(self) -> None:
        lease = _lease()
        started = time.monotonic()
        try:
            while not self.stopped.wait(lease.total_seconds() / 3):
                if time.monotonic() - started > SEND_LIMIT.total_seconds():
                    logger.error(
                        "outbox %s still sending after %s; its lease is no longer renewed",
                        self.item_id,
                        SEND_LIMIT,
                    )
                    return
                renewed = _held(self.item_id, self.attempts).update(
                    next_attempt_at=timezone.now() + lease
                )
                if not renewed:
                    return
        except DatabaseError:
            # The send goes on; if renewals cannot be written, the lease may lapse and another
            # worker may send again, which the idempotency key is there for.
            logger.exception("outbox %s: the lease could not be renewed", self.item_id)
        finally:
            connection.close()


def _attempt(item: OutboxMessage) -> str:
    """Hand the message to its channel's adapter; the provider's id for it, or an exception."""
    adapter = adapter_for(item.channel)
    if adapter is None:
        raise DeliveryFailed(f"bankdesk cannot send on {item.channel}", permanent=True)
    if item.endpoint is not None and not item.endpoint.is_active:
        raise DeliveryFailed(f"channel endpoint {item.endpoint.code} is switched off")
    if not item.provider_message_id:
        # An id the bank chooses (an e-mail's Message-ID) is fixed before the first hand-off,
        # so a resend after a crash carries the same one whatever changed in between.
        reference = adapter.message_reference(item, item.endpoint)
        if reference and _record(item.pk, item.attempts, provider_message_id=reference[:255]):
            item.provider_message_id = reference[:255]
    return adapter.deliver(item, item.endpoint)


def outbox_send(item_id: int) -> str:
    """One attempt at one claimed message; returns its new status.

    Any exception ends the attempt as a failure of this message alone: counted, retried with
    backoff, given up at MAX_ATTEMPTS. Only a refusal the adapter calls permanent is given up
    at once. KeyboardInterrupt and SystemExit stop the worker, and the lease brings the
    message back.
    """
    item = OutboxMessage.objects.select_related("endpoint", "message").get(pk=item_id)
    if not _consented(item):
        _give_up(item, "the customer withdrew the consent this message needs")
        return OutboxStatus.DEAD
    if _held_for_quiet_hours(item):
        return OutboxStatus.PENDING
    try:
        with _LeaseKeeper(item.pk, item.attempts):
            provider_id = _attempt(item)
    except DeliveryFailed as exc:
        return _failed(item, str(exc), permanent=exc.permanent)
    except Exception as exc:
        logger.exception("outbox %s attempt %s failed unexpectedly", item_id, item.attempts)
        return _failed(item, f"{type(exc).__name__}: {exc}", permanent=False)
    with transaction.atomic():
        if _record(
            item_id,
            item.attempts,
            status=OutboxStatus.SENT,
            sent_at=timezone.now(),
            provider_message_id=provider_id[:255],
            last_error="",
        ):
            _message_delivery(item, DeliveryStatus.SENT)
    return OutboxStatus.SENT


def _consented(item: OutboxMessage) -> bool:
    """A message that needs the customer's consent (a marketing invitation) goes only while
    they still give it: it may have waited for quiet hours, or a retry, since it was queued."""
    needed = item.payload_data().get("consent")
    if not isinstance(needed, dict):
        return True
    customer_id, purpose = needed.get("customer_id"), needed.get("purpose")
    if not isinstance(customer_id, int) or purpose not in ConsentPurpose.values:
        return False
    return consent_allows(customer_id, purpose)


def _held_for_quiet_hours(item: OutboxMessage) -> bool:
    """A message the customer did not ask for (a survey) claimed in quiet hours — left over
    from the evening, or retried into the night — waits for them to end; the claim is given
    back without counting as an attempt."""
    if not item.payload_data().get("quiet_hours"):
        return False
    now = timezone.now()
    allowed = survey_quiet_hours().next_allowed(now)
    if allowed <= now:
        return False
    _held(item.pk, item.attempts).update(
        status=OutboxStatus.PENDING, attempts=F("attempts") - 1, next_attempt_at=allowed
    )
    return True


def _failed(item: OutboxMessage, reason: str, *, permanent: bool) -> str:
    if permanent or item.attempts >= MAX_ATTEMPTS:
        _give_up(item, reason)
        return OutboxStatus.DEAD
    logger.warning("outbox %s attempt %s failed: %s", item.pk, item.attempts, reason)
    _record(
        item.pk,
        item.attempts,
        status=OutboxStatus.PENDING,
        last_error=reason[:500],
        next_attempt_at=timezone.now() + backoff(item.attempts),
    )
    return OutboxStatus.PENDING


def outbox_deliver(*, now: datetime | None = None) -> DeliveryReport:
    """Send everything due, one message at a time, until nothing is left to claim."""
    sent = retrying = dead = 0
    while (item_id := outbox_claim(now=now)) is not None:
        status = outbox_send(item_id)
        sent += status == OutboxStatus.SENT
        retrying += status == OutboxStatus.PENDING
        dead += status == OutboxStatus.DEAD
    return DeliveryReport(sent=sent, retrying=retrying, dead=dead)


@transaction.atomic
def outbox_retry(*, case: Case, message_id: int, actor: User) -> OutboxMessage:
    """Send a given-up reply again once its cause is fixed (an address corrected, a provider
    back): a fresh round of attempts with the same idempotency key, the case recording who
    sent it again."""
    item = (
        OutboxMessage.objects.select_for_update(of=("self",))
        .select_related("message")
        .filter(case=case, message_id=message_id)
        .order_by("-id")
        .first()
    )
    if item is None or item.status != OutboxStatus.DEAD:
        raise NotGivenUp("this reply was not given up: there is nothing to send again")
    item.status = OutboxStatus.PENDING
    item.attempts = 0
    item.next_attempt_at = timezone.now()
    item.save(update_fields=["status", "attempts", "next_attempt_at"])
    audit_record(actor=actor, action="outbox.retry", target=item, fields=["status", "attempts"])
    if item.message is not None:
        message_delivery_record(message=item.message, status=DeliveryStatus.QUEUED, actor=actor)
    transaction.on_commit(_deliver_soon)
    return item


def _deliver_soon() -> None:
    from bankdesk.intake.tasks import outbox_deliver_run  # the task module imports this one

    outbox_deliver_run.enqueue()
