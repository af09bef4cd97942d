"""Delivering the outbox: claim, send, record — with retries, backoff and idempotency keys.

A worker claims a batch by moving each message's next attempt forward by a lease, under
SKIP LOCKED, so workers never take the same message at once. It then sends outside any
transaction and records the result. If the worker dies between sending and recording, the
lease runs out and another worker sends again with the same idempotency key, which the
provider uses to recognise the retry: the customer receives the message once.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from bankdesk.intake.channels.registry import adapter_for
from bankdesk.intake.choices import OutboxStatus
from bankdesk.intake.errors import DeliveryFailed
from bankdesk.intake.models import OutboxMessage

logger = logging.getLogger(__name__)

CLAIM_BATCH = 50
MAX_ATTEMPTS = 8
FIRST_BACKOFF = timedelta(seconds=10)
MAX_BACKOFF = timedelta(hours=1)


@dataclass(frozen=True)
class DeliveryReport:
    sent: int
    retrying: int
    dead: int


def _lease() -> timedelta:
    """How long a claimed message is held before another worker may try it."""
    return timedelta(seconds=settings.BANKDESK_OUTBOX_LEASE_SECONDS)


def backoff(attempts: int) -> timedelta:
    """Exponential, capped, with jitter so a provider outage does not end in a thundering herd."""
    base = min(FIRST_BACKOFF * (2 ** max(attempts - 1, 0)), MAX_BACKOFF)
    return base * random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not a secret


def outbox_claim(*, now: datetime | None = None, batch: int = CLAIM_BATCH) -> list[int]:
    """Take up to `batch` messages due for an attempt, holding each for the lease."""
    now = now or timezone.now()
    with transaction.atomic():
        ids = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(
                status__in=[OutboxStatus.PENDING, OutboxStatus.SENDING], next_attempt_at__lte=now
            )
            .order_by("next_attempt_at", "id")
            .values_list("pk", flat=True)[:batch]
        )
        OutboxMessage.objects.filter(pk__in=ids).update(
            status=OutboxStatus.SENDING, next_attempt_at=now + _lease(), attempts=F("attempts") + 1
        )
    return ids


def _record(item_id: int, attempts: int, **changes: object) -> None:
    """Write the result unless another worker has claimed the message since."""
    OutboxMessage.objects.filter(pk=item_id, status=OutboxStatus.SENDING, attempts=attempts).update(
        **changes
    )


def outbox_send(item_id: int) -> str:
    """One attempt at one claimed message; returns its new status."""
    item = OutboxMessage.objects.select_related("endpoint").get(pk=item_id)
    now = timezone.now()
    adapter = adapter_for(item.channel)
    try:
        if adapter is None:
            raise DeliveryFailed(f"bankdesk cannot send on {item.channel}", permanent=True)
        if item.endpoint is not None and not item.endpoint.is_active:
            raise DeliveryFailed(f"channel endpoint {item.endpoint.code} is switched off")
        provider_id = adapter.deliver(item, item.endpoint)
    except DeliveryFailed as exc:
        dead = exc.permanent or item.attempts >= MAX_ATTEMPTS
        status = OutboxStatus.DEAD if dead else OutboxStatus.PENDING
        _record(
            item_id,
            item.attempts,
            status=status,
            last_error=str(exc)[:500],
            next_attempt_at=now + backoff(item.attempts),
        )
        logger.warning("outbox %s attempt %s failed: %s", item_id, item.attempts, exc)
        return status
    _record(
        item_id,
        item.attempts,
        status=OutboxStatus.SENT,
        sent_at=now,
        provider_message_id=provider_id[:255],
        last_error="",
    )
    return OutboxStatus.SENT


def outbox_deliver(*, now: datetime | None = None) -> DeliveryReport:
    """Send everything due, batch by batch, until nothing is left to claim."""
    sent = retrying = dead = 0
    while ids := outbox_claim(now=now):
        for item_id in ids:
            status = outbox_send(item_id)
            sent += status == OutboxStatus.SENT
            retrying += status == OutboxStatus.PENDING
            dead += status == OutboxStatus.DEAD
    return DeliveryReport(sent=sent, retrying=retrying, dead=dead)
