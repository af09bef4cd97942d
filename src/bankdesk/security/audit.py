"""The audit chain: append-only, hash-linked, written in the same transaction as the change."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from bankdesk.security.context import current_origin
from bankdesk.security.models import AuditEntry, AuditHead

GENESIS = "0" * 64


def _canonical(entry: AuditEntry) -> bytes:
    created = entry.created_at.astimezone(UTC).isoformat(timespec="microseconds")
    content = [
        entry.sequence,
        entry.actor_id,
        entry.actor_name,
        entry.action,
        entry.object_type,
        entry.object_id,
        list(entry.fields),
        entry.reason,
        entry.origin_ip,
        entry.request_id,
        created,
        entry.previous_hash,
    ]
    return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def entry_hash(entry: AuditEntry) -> str:
    return hashlib.sha256(_canonical(entry)).hexdigest()


def audit_chain_lock() -> None:
    """Take the chain's head lock now, ahead of the locks a service is about to take.

    Every write ends by appending to the chain, so its head is held to the end of every write
    transaction. A service that also takes another shared row lock (the yearly case-number
    counter) takes this one first, so that two writers never hold the two in opposite orders.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_chain_lock must run inside the transaction of the change")
    AuditHead.objects.select_for_update().get_or_create(pk=1)


def audit_record(
    *,
    actor: Any,
    action: str,
    target: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    fields: Iterable[str] = (),
    reason: str = "",
) -> AuditEntry:
    """Append one entry. Call inside the service's transaction: the change and its record
    commit together or not at all. Field names only, never values."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the change")
    if target is not None:
        object_type = object_type or target._meta.label_lower
        object_id = object_id or str(target.pk)
    ip, request_id = current_origin()
    # The head row serialises writers: each entry links to the one committed just before it.
    head, _ = AuditHead.objects.select_for_update().get_or_create(pk=1)
    entry = AuditEntry(
        sequence=head.sequence + 1,
        actor=actor if getattr(actor, "pk", None) else None,
        actor_name=getattr(actor, "username", "") or "system",
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        fields=sorted(set(fields)),
        reason=reason[:500],
        origin_ip=ip,
        request_id=request_id[:64],
        created_at=timezone.now(),
        previous_hash=head.entry_hash or GENESIS,
    )
    entry.entry_hash = entry_hash(entry)
    entry.save()
    head.sequence = entry.sequence
    head.entry_hash = entry.entry_hash
    head.save(update_fields=["sequence", "entry_hash"])
    return entry


@dataclass(frozen=True)
class ChainReport:
    entries: int
    head_hash: str
    broken_at: int | None
    problem: str

    @property
    def is_intact(self) -> bool:
        return self.broken_at is None


def audit_verify(*, using: str = "default") -> ChainReport:
    """Walk the whole chain; name the first entry whose content or link does not add up."""
    previous = GENESIS
    expected_sequence = 1
    count = 0
    rows = AuditEntry.objects.using(using).order_by("sequence").iterator(chunk_size=2000)
    for entry in rows:
        count += 1
        if entry.sequence != expected_sequence:
            return ChainReport(count, previous, expected_sequence, "entry missing from the chain")
        if entry.previous_hash != previous:
            return ChainReport(count, previous, entry.sequence, "link to the previous entry broken")
        if entry_hash(entry) != entry.entry_hash:
            return ChainReport(count, previous, entry.sequence, "content does not match its hash")
        previous = entry.entry_hash
        expected_sequence += 1
    head = AuditHead.objects.using(using).filter(pk=1).first()
    if head is not None and (head.sequence, head.entry_hash or GENESIS) != (count, previous):
        return ChainReport(count, previous, count + 1, "entries after the last one were removed")
    return ChainReport(count, previous, None, "")
