"""The audit chain: every change appends a sealed entry in its own transaction; a chainer links
the entries in order once they commit; `audit verify` proves the chain whole.

Writers never wait for one another here. Each entry is sealed on its own with an HMAC under the
audit key (kept outside the database) and inserted like any row; its id only says the order it
was appended. Right after commit, the chainer takes the chain's head row if nobody else has it
(skipping, not waiting, when another chainer is at work) and gives every committed entry not
yet linked the next sequence number and a link: an HMAC over the entry's MAC and the link
before. The worker runs the chainer every few minutes too, for entries whose commit found the
head busy, and seals the head into a signed checkpoint outside the database. (On SQLite, where
writers take turns at the database's one write lock anyway, the writer links its own entries.)
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from functools import partial
from typing import Any

from django.db import DEFAULT_DB_ALIAS, IntegrityError, models, transaction

from bankdesk.security.audit_checkpoints import Checkpoint, CheckpointSet, checkpoints_read
from bankdesk.security.audit_mac import (
    GENESIS,
    AuditKey,
    EntryContent,
    audit_key,
    legacy_entry_hash,
    macs_equal,
)
from bankdesk.security.context import current_origin
from bankdesk.security.models import AuditEntry, AuditHead

logger = logging.getLogger("bankdesk.audit")

# Entries linked per transaction of the chainer: its head lock stays short even after a backlog.
CHAIN_BATCH = 1000
# The columns an entry's MAC covers: EntryContent's fields are named after them.
CONTENT_COLUMNS = tuple(f.name for f in dataclass_fields(EntryContent))


class AuditKeyMismatch(RuntimeError):
    """The audit key this process has is not the one the database's chain is sealed with."""


# (database alias, key fingerprint) pairs already held against the chain's head.
_keys_checked: set[tuple[str, str]] = set()


def audit_key_check(*, using: str = DEFAULT_DB_ALIAS) -> AuditKey:
    """The audit key, once it is known to be the one this database's chain is sealed with.

    A process started with another key (a mistyped BANKDESK_AUDIT_KEY, another installation's
    key file) refuses to write: entries sealed with it could never be verified.
    """
    key = audit_key()
    if (using, key.fingerprint) in _keys_checked:
        return key
    known = (
        AuditHead.objects.using(using)
        .filter(pk=1)
        .values_list("key_fingerprint", flat=True)
        .first()
    )
    if known and known != key.fingerprint:
        raise AuditKeyMismatch(
            f"the audit key (fingerprint {key.fingerprint}) is not the one this database's "
            f"audit chain is sealed with (fingerprint {known}): check BANKDESK_AUDIT_KEY"
        )
    if known:
        _keys_checked.add((using, key.fingerprint))
    return key


def entry_content(values: dict[str, Any]) -> EntryContent:
    """What an entry's MAC covers, from its columns (a model's __dict__ or a values() row)."""
    return EntryContent(**{name: values[name] for name in CONTENT_COLUMNS})


def _stored_ip(address: str | None) -> str | None:
    # Sealed as the database will keep it (IPv6 compressed), or it would not verify.
    field = AuditEntry._meta.get_field("origin_ip")
    return field.get_prep_value(address) if address else None


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
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the change")
    key = audit_key_check(using=connection.alias)
    if target is not None:
        object_type = object_type or target._meta.label_lower
        object_id = object_id or str(target.pk)
    ip, request_id = current_origin()
    entry = AuditEntry(
        actor=actor if getattr(actor, "pk", None) else None,
        actor_name=getattr(actor, "username", "") or "system",
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        fields=sorted(set(fields)),
        reason=reason[:500],
        origin_ip=_stored_ip(ip),
        request_id=request_id[:64],
        nonce=secrets.token_hex(16),
    )
    entry.content_mac = key.entry_mac(entry_content(entry.__dict__))
    if connection.vendor == "sqlite":
        # SQLite admits one writer at a time: BEGIN IMMEDIATE holds the database's write lock to
        # commit. Linking here makes nobody wait who was not waiting already, follows commit
        # order, and spares every commit a second write transaction queuing for that lock.
        _append_linked(entry, key, using=connection.alias)
    else:
        entry.save(using=connection.alias)
        _chain_after_commit(connection.alias)
    return entry


def _append_linked(entry: AuditEntry, key: AuditKey, *, using: str) -> None:
    """Insert the entry already linked after the head, and move the head to it."""
    head = _head_for_chaining(key, using=using, wait=True)
    if head is None:  # pragma: no cover - waiting for the head always gets it
        raise RuntimeError("the audit chain's head could not be taken")
    _link(entry, head, key)
    entry.save(using=using)
    head.save(using=using, update_fields=["sequence", "link", "key_fingerprint"])


# One chaining callback per database, so a transaction that appends many entries asks once.
_chainers: dict[str, Callable[[], None]] = {}


def _chain_quietly(using: str) -> None:
    try:
        audit_chain(using=using)
    except Exception:  # the change is committed; the worker links what is left
        logger.exception("audit entries left for the worker to chain")


def _chain_after_commit(using: str) -> None:
    """Have this transaction's entries chained once it commits; asked once per transaction.

    `run_on_commit` is where Django keeps the callbacks still waiting for this transaction; a
    savepoint rolled back takes its own callbacks with it, so a later entry asks again.
    """
    chain = _chainers.setdefault(using, partial(_chain_quietly, using))
    connection = transaction.get_connection(using)
    if not any(callback is chain for _savepoints, callback, _robust in connection.run_on_commit):
        transaction.on_commit(chain, using=using)


def _head_for_chaining(key: AuditKey, *, using: str, wait: bool) -> AuditHead | None:
    """The head row, locked; None when another chainer has it and we are not to wait."""
    heads = AuditHead.objects.using(using).select_for_update(skip_locked=not wait)
    while (head := heads.filter(pk=1).first()) is None:
        if AuditHead.objects.using(using).filter(pk=1).exists():
            return None  # skipped: locked by a chainer that will link our entries too
        try:
            with transaction.atomic(using=using):
                AuditHead.objects.using(using).create(
                    pk=1, sequence=0, link=GENESIS, key_fingerprint=key.fingerprint
                )
        except IntegrityError:
            if not wait:
                return None  # another chainer made it a moment ago
    if head.key_fingerprint and head.key_fingerprint != key.fingerprint:
        raise AuditKeyMismatch(
            f"the audit key (fingerprint {key.fingerprint}) is not the one the chain is "
            f"sealed with (fingerprint {head.key_fingerprint}): check BANKDESK_AUDIT_KEY"
        )
    head.key_fingerprint = key.fingerprint
    head.link = head.link or GENESIS
    return head


def _link(entry: AuditEntry, head: AuditHead, key: AuditKey) -> None:
    """Give the entry the next place in the chain, and make it the head."""
    head.sequence += 1
    head.link = key.link_mac(
        sequence=head.sequence, entry_mac=entry.content_mac, previous=head.link
    )
    entry.sequence, entry.link = head.sequence, head.link


def audit_chain(*, using: str = DEFAULT_DB_ALIAS, wait: bool = False) -> int:
    """Link every committed entry not yet in the chain, oldest append first; how many it linked.

    Without `wait`, a chainer that finds the head taken leaves at once: whoever holds it links
    these entries too, or the worker does within minutes. Chain order is the order the chainer
    finds entries committed, not their ids: on PostgreSQL an entry whose transaction took its id
    first may commit after later ones were linked, and is linked after them. An id whose
    transaction rolled back never appears, and leaves no gap among the sequence numbers.
    """
    key = audit_key_check(using=using)
    unchained = AuditEntry.objects.using(using).filter(sequence__isnull=True)
    linked = 0
    while unchained.exists():  # read without a lock: most commits find their entries linked
        with transaction.atomic(using=using):
            head = _head_for_chaining(key, using=using, wait=wait)
            if head is None:
                return linked
            batch = list(unchained.order_by("id").only("id", "content_mac")[:CHAIN_BATCH])
            for entry in batch:
                _link(entry, head, key)
            AuditEntry.objects.using(using).bulk_update(batch, ["sequence", "link"])
            head.save(using=using, update_fields=["sequence", "link", "key_fingerprint"])
        linked += len(batch)
    return linked


# -- verification ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainReport:
    """What a walk of the chain found: how far it holds, and the first thing that does not."""

    entries: int  # chained entries that add up, from #1
    head_hash: str  # the link of the last of them (a keyed hash)
    broken_at: int | None  # sequence of the first entry that does not add up
    problem: str
    unchained: int = 0  # committed entries the chainer has not linked yet
    checkpoints: int = 0  # checkpoints the chain was held against
    newest_checkpoint: Checkpoint | None = None

    @property
    def is_intact(self) -> bool:
        return not self.problem


_WALK_COLUMNS = ("id", "sequence", "content_mac", "link", *CONTENT_COLUMNS)


@dataclass
class _Walk:
    """The state of one pass along the chain."""

    key: AuditKey
    binding: dict[int, list[Checkpoint]]
    entries: int = 0
    link: str = GENESIS
    legacy_link: str = GENESIS

    def problem_with(self, row: dict[str, Any]) -> str:
        """What is wrong with the next entry, or "" when it adds up."""
        sequence = self.entries + 1
        if row["sequence"] != sequence:
            return "entry missing from the chain"
        content = entry_content(row)
        if not macs_equal(row["content_mac"], self.key.entry_mac(content)):
            return "content does not match its MAC (rewritten, or sealed with another key)"
        if content.legacy_hash:
            expected = legacy_entry_hash(
                sequence=sequence, content=content, previous=self.legacy_link
            )
            if content.legacy_hash != expected:
                return "changed before the chain was keyed: its unkeyed hash does not add up"
            self.legacy_link = content.legacy_hash
        link = self.key.link_mac(
            sequence=sequence, entry_mac=row["content_mac"], previous=self.link
        )
        if not macs_equal(row["link"], link):
            return "link to the previous entry broken"
        for checkpoint in self.binding.get(sequence, []):
            if not macs_equal(row["link"], checkpoint.head):
                return f"not the entry {checkpoint.describe()} sealed"
        self.entries, self.link = sequence, link
        return ""


def audit_verify(
    *,
    using: str = DEFAULT_DB_ALIAS,
    checkpoints: CheckpointSet | None = None,
    complete: bool = True,
) -> ChainReport:
    """Walk the whole chain; name the first entry whose content, link or checkpoint does not add up.

    `checkpoints` are read from BANKDESK_AUDIT_CHECKPOINT_DIR unless given. A live database
    must reach the newest of them (`complete`); a backup's copy may end before checkpoints
    made after it was taken, but must agree with every one it reaches.
    """
    key = audit_key()
    found = checkpoints if checkpoints is not None else checkpoints_read(key=key)
    binding: dict[int, list[Checkpoint]] = {}
    for checkpoint in found.binding():
        binding.setdefault(checkpoint.sequence, []).append(checkpoint)
    newest = found.newest()
    walk = _Walk(key=key, binding=binding)
    head = AuditHead.objects.using(using).filter(pk=1).first()
    entries = AuditEntry.objects.using(using)

    def report(broken_at: int | None, problem: str, unchained: int = 0) -> ChainReport:
        if problem and head is not None and head.key_fingerprint not in ("", key.fingerprint):
            problem = (
                f"{problem}; the audit key in use (fingerprint {key.fingerprint}) is not the "
                f"one the chain is sealed with ({head.key_fingerprint})"
            )
        return ChainReport(
            walk.entries,
            walk.link,
            broken_at,
            problem,
            unchained,
            len(found.checkpoints),
            newest,
        )

    chained = entries.filter(sequence__isnull=False).order_by("sequence")
    for row in chained.values(*_WALK_COLUMNS).iterator(chunk_size=2000):
        problem = walk.problem_with(row)
        if problem:
            return report(walk.entries + 1, problem)
    count = walk.entries
    if complete and newest is not None and count < newest.sequence:
        return report(
            count + 1,
            f"entries #{count + 1} to #{newest.sequence} are missing: "
            f"{newest.describe()} counted {newest.sequence}",
        )
    if head is not None and (head.sequence, head.link or GENESIS) != (count, walk.link):
        return report(
            min(head.sequence, count) + 1,
            f"entries after #{count} were removed (the chain's head names #{head.sequence})"
            if head.sequence > count
            else f"the chain's head row does not match entry #{count}",
        )
    pending = entries.filter(sequence__isnull=True).order_by("id")
    unchained = 0
    for row in pending.values(*_WALK_COLUMNS).iterator(chunk_size=2000):
        unchained += 1
        if not macs_equal(row["content_mac"], key.entry_mac(entry_content(row))):
            return report(None, f"entry id {row['id']}, not yet chained, does not match its MAC")
    if found.problems:
        return report(None, f"checkpoint file {found.problems[0]}", unchained)
    return report(None, "", unchained)
