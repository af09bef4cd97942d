"""Signed checkpoints of the audit chain, kept outside the database.

A checkpoint says "at this moment the chain held N entries, the last one linked L", sealed
with the audit key. The worker appends one every few minutes (when the chain has moved), and
`bankdesk audit checkpoint` on demand, one JSON line each, to a file per UTC day in
BANKDESK_AUDIT_CHECKPOINT_DIR. Ship the files to write-once storage: then neither the
database's user nor anyone who reaches the database can take back what they record, and
`audit verify` holds the chain against every one of them, so emptying the table, deleting its
tail, or rewriting an entry and recomputing the links is named.

A restore record (`kind` "restore", written by `backup restore`) says the chain was put back
to an earlier state on purpose: checkpoints made before it that count past the restored chain
describe entries the restore gave up, and no longer bind it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS
from django.utils import timezone

from bankdesk.security.audit_mac import GENESIS, AuditKey, audit_key, macs_equal, timestamp
from bankdesk.security.models import AuditEntry, AuditHead

CHECKPOINT = "checkpoint"
RESTORE = "restore"
KINDS = (CHECKPOINT, RESTORE)
VERSION = 1


class CheckpointConflict(RuntimeError):
    """The chain in the database no longer holds what an earlier checkpoint recorded."""


@dataclass(frozen=True)
class Checkpoint:
    """One sealed line: how many entries the chain held (its sequence is its count) and the
    link of the last one, at a moment."""

    kind: str
    sequence: int
    head: str
    at: datetime
    key: str
    source: str = field(default="", compare=False)  # file and line it was read from

    def describe(self) -> str:
        moment = timezone.localtime(self.at).strftime("%Y-%m-%d %H:%M:%S %Z")
        what = "the restore record" if self.kind == RESTORE else "the checkpoint"
        return f"{what} of {moment} ({self.source})" if self.source else f"{what} of {moment}"

    def line(self, key: AuditKey) -> bytes:
        at = timestamp(self.at)
        mac = key.checkpoint_mac(
            kind=self.kind, sequence=self.sequence, head=self.head, at=at, key=self.key
        )
        document = {
            "v": VERSION,
            "kind": self.kind,
            "sequence": self.sequence,
            "head": self.head,
            "at": at,
            "key": self.key,
            "mac": mac,
        }
        return json.dumps(document, separators=(",", ":")).encode() + b"\n"


@dataclass(frozen=True)
class CheckpointSet:
    """Every checkpoint found, and the lines that are not checkpoints sealed with this key."""

    checkpoints: tuple[Checkpoint, ...] = ()
    problems: tuple[str, ...] = ()

    def binding(self) -> list[Checkpoint]:
        """The checkpoints the chain must agree with: all but those a later restore record
        gave up (made before it, counting past the chain it restored)."""
        restores = [c for c in self.checkpoints if c.kind == RESTORE]
        return [
            c
            for c in self.checkpoints
            if not any(r.at > c.at and r.sequence < c.sequence for r in restores)
        ]

    def newest(self) -> Checkpoint | None:
        """The binding checkpoint that counts the most entries: the chain must reach it."""
        binding = self.binding()
        return max(binding, key=lambda c: (c.sequence, c.at)) if binding else None


def checkpoint_directory() -> Path:
    return Path(settings.BANKDESK_AUDIT_CHECKPOINT_DIR)


def _parse(raw: bytes, source: str, key: AuditKey) -> Checkpoint | str:
    """A checkpoint, or what is wrong with the line."""
    try:
        data: dict[str, Any] = json.loads(raw)
        checkpoint = Checkpoint(
            kind=str(data["kind"]),
            sequence=int(data["sequence"]),
            head=str(data["head"]),
            at=datetime.fromisoformat(str(data["at"])),
            key=str(data["key"]),
            source=source,
        )
        mac = str(data["mac"])
        if data.get("v") != VERSION or checkpoint.kind not in KINDS or checkpoint.sequence < 0:
            raise ValueError("unknown format")
        if checkpoint.at.tzinfo is None:
            raise ValueError("time without a zone")
    except (ValueError, KeyError, TypeError, AttributeError):
        return f"{source} is not a checkpoint bankdesk wrote"
    if checkpoint.key != key.fingerprint:
        return (
            f"{source} is sealed with another audit key (fingerprint {checkpoint.key}; this "
            f"installation's key is {key.fingerprint})"
        )
    expected = key.checkpoint_mac(
        kind=checkpoint.kind,
        sequence=checkpoint.sequence,
        head=checkpoint.head,
        at=str(data["at"]),
        key=checkpoint.key,
    )
    if not macs_equal(mac, expected):
        return f"{source} does not match its MAC: altered, or not written by bankdesk"
    return checkpoint


def _read_file(path: Path, key: AuditKey) -> tuple[list[Checkpoint], list[str]]:
    """A last line without its newline is a write cut short (a crash, a full disk) and is left
    out; any other line that is not a checkpoint sealed with this key is a problem."""
    found: list[Checkpoint] = []
    problems: list[str] = []
    try:
        lines = path.read_bytes().split(b"\n")[:-1]
    except OSError as exc:
        return [], [f"{path} cannot be read: {exc}"]
    for number, raw in enumerate(lines, start=1):
        parsed = _parse(raw, f"{path.name}:{number}", key)
        if isinstance(parsed, Checkpoint):
            found.append(parsed)
        else:
            problems.append(parsed)
    return found, problems


def _files(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.jsonl")) if directory.is_dir() else []


def checkpoints_read(
    directory: Path | None = None, *, key: AuditKey | None = None
) -> CheckpointSet:
    """Every checkpoint in `directory` (BANKDESK_AUDIT_CHECKPOINT_DIR by default)."""
    key = key or audit_key()
    found: list[Checkpoint] = []
    problems: list[str] = []
    for path in _files(directory or checkpoint_directory()):
        checkpoints, wrong = _read_file(path, key)
        found += checkpoints
        problems += wrong
    return CheckpointSet(tuple(found), tuple(problems))


def _append(directory: Path, checkpoint: Checkpoint, key: AuditKey) -> Path:
    """Append one line, synced to disk before it counts as written.

    O_APPEND with a single write keeps concurrent writers' lines whole, and still works on a
    file the operator made append-only (chattr +a).
    """
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = directory / f"{checkpoint.at.astimezone(UTC).date().isoformat()}.jsonl"
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(descriptor, checkpoint.line(key))
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    return path


def _newest_in_last_file(directory: Path, key: AuditKey) -> Checkpoint | None:
    """What the chain must still hold now, by the newest file (`audit verify` reads them all)."""
    files = _files(directory)
    if not files:
        return None
    checkpoints, _problems = _read_file(files[-1], key)
    return CheckpointSet(tuple(checkpoints)).newest()


def audit_checkpoint_write(
    *,
    using: str = DEFAULT_DB_ALIAS,
    kind: str = CHECKPOINT,
    only_if_moved: bool = False,
    directory: Path | None = None,
) -> Checkpoint | None:
    """Seal the chain's committed head (its count and last link) into the checkpoint files.

    Before sealing, the chain must still hold what the newest file's last checkpoint recorded:
    a chain that was emptied, cut short or relinked is refused (CheckpointConflict), never
    signed over. A restore record is written whatever the chain was before. With
    `only_if_moved` (the worker), nothing is written while the chain has not grown.
    """
    key = audit_key()
    directory = directory or checkpoint_directory()
    head = AuditHead.objects.using(using).filter(pk=1).values_list("sequence", "link").first()
    sequence, link = (head[0], head[1] or GENESIS) if head else (0, GENESIS)
    previous = _newest_in_last_file(directory, key)
    if kind == CHECKPOINT and previous is not None:
        _check_still_holds(previous, sequence=sequence, link=link, using=using)
        if only_if_moved and previous.sequence == sequence:
            return None
    checkpoint = Checkpoint(
        kind=kind, sequence=sequence, head=link, at=timezone.now(), key=key.fingerprint
    )
    path = _append(directory, checkpoint, key)
    return Checkpoint(**{**checkpoint.__dict__, "source": path.name})


def _check_still_holds(previous: Checkpoint, *, sequence: int, link: str, using: str) -> None:
    if sequence < previous.sequence:
        raise CheckpointConflict(
            f"the audit chain holds {sequence} entries, fewer than the {previous.sequence} "
            f"{previous.describe()} counted: run `bankdesk audit verify`"
        )
    if previous.sequence == 0:
        return
    recorded = (
        AuditEntry.objects.using(using)
        .filter(sequence=previous.sequence)
        .values_list("link", flat=True)
        .first()
    )
    if recorded is None or not macs_equal(recorded, previous.head):
        raise CheckpointConflict(
            f"audit entry #{previous.sequence} is no longer the one {previous.describe()} "
            "sealed: run `bankdesk audit verify`"
        )
