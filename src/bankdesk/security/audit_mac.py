"""The audit key and what it seals: each entry's content, each link of the chain, each checkpoint.

One secret (BANKDESK_AUDIT_KEY, kept outside the database) yields a separate HMAC-SHA256 key
per purpose, so a value sealed for one purpose can never pass for another. Without the key,
nobody can make an entry, a link or a checkpoint that verifies: not the database's own user,
not someone who copied the database.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache

from django.conf import settings

# The link before the first entry.
GENESIS = "0" * 64
# Version tags inside every sealed message: a later format can never be confused with this one.
ENTRY_FORMAT = "bankdesk-audit-entry-2"
LINK_FORMAT = "bankdesk-audit-link-2"
CHECKPOINT_FORMAT = "bankdesk-audit-checkpoint-1"


def _canonical(values: Sequence[object]) -> bytes:
    return json.dumps(list(values), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def timestamp(moment: datetime) -> str:
    """A moment as sealed: UTC to the microsecond, the precision both databases keep."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class EntryContent:
    """What one audit entry says, exactly as it is sealed: who, what, which object, when, from
    where. `legacy_hash` is the unkeyed hash an entry had before the chain was keyed."""

    nonce: str
    actor_id: int | None
    actor_name: str
    action: str
    object_type: str
    object_id: str
    fields: Sequence[str]
    reason: str
    origin_ip: str | None
    request_id: str
    created_at: datetime
    legacy_hash: str = ""

    def canonical(self) -> bytes:
        return _canonical(
            [
                ENTRY_FORMAT,
                self.nonce,
                self.actor_id,
                self.actor_name,
                self.action,
                self.object_type,
                self.object_id,
                list(self.fields),
                self.reason,
                self.origin_ip,
                self.request_id,
                timestamp(self.created_at),
                self.legacy_hash,
            ]
        )


PURPOSES = ("entry", "link", "checkpoint", "fingerprint")


@dataclass(frozen=True)
class AuditKey:
    """The audit secret, split into one HMAC key per purpose."""

    secret: bytes = field(repr=False)
    _keys: dict[str, bytes] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        keys = {
            purpose: hmac.new(self.secret, f"bankdesk audit {purpose}".encode(), "sha256").digest()
            for purpose in PURPOSES
        }
        object.__setattr__(self, "_keys", keys)

    def _mac(self, purpose: str, message: bytes) -> str:
        return hmac.new(self._keys[purpose], message, hashlib.sha256).hexdigest()

    @property
    def fingerprint(self) -> str:
        """Names the key without revealing it: shown by `audit verify`, kept with the chain's
        head and in each checkpoint, so a wrong key is told apart from a tampered entry."""
        return self._mac("fingerprint", b"")[:16]

    def entry_mac(self, content: EntryContent) -> str:
        return self._mac("entry", content.canonical())

    def link_mac(self, *, sequence: int, entry_mac: str, previous: str) -> str:
        """The link of the entry at `sequence`: its content's MAC bound to the link before."""
        return self._mac("link", _canonical([LINK_FORMAT, sequence, entry_mac, previous]))

    def checkpoint_mac(self, *, kind: str, sequence: int, head: str, at: str, key: str) -> str:
        return self._mac(
            "checkpoint", _canonical([CHECKPOINT_FORMAT, kind, sequence, head, at, key])
        )


def legacy_entry_hash(*, sequence: int, content: EntryContent, previous: str) -> str:
    """The unkeyed SHA-256 an entry had before the chain was keyed (anyone could recompute it,
    which is why the chain is keyed now); kept so a change made before the upgrade still shows."""
    legacy = [
        sequence,
        content.actor_id,
        content.actor_name,
        content.action,
        content.object_type,
        content.object_id,
        list(content.fields),
        content.reason,
        content.origin_ip,
        content.request_id,
        timestamp(content.created_at),
        previous,
    ]
    return hashlib.sha256(_canonical(legacy)).hexdigest()


def macs_equal(stored: str, computed: str) -> bool:
    """Compared in constant time, so a forger learns nothing from how long a refusal takes."""
    return hmac.compare_digest(stored.encode(), computed.encode())


@lru_cache(maxsize=4)
def _key_for(secret: str) -> AuditKey:
    return AuditKey(secret.encode("utf-8"))


def audit_key() -> AuditKey:
    """The configured audit key (BANKDESK_AUDIT_KEY, or the one generated into BANKDESK_HOME)."""
    return _key_for(settings.BANKDESK_AUDIT_KEY)
