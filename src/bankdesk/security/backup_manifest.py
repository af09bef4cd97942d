"""The manifest inside every backup: what it holds, so a restore can prove it got all of it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bankdesk.security.audit import ChainReport
from bankdesk.security.backup_archive import FORMAT, BackupUnreadable

MANIFEST_NAME = "manifest.json"


@dataclass(frozen=True)
class TableCount:
    model: str  # app_label.model_name
    table: str
    rows: int


@dataclass(frozen=True)
class Manifest:
    bankdesk_version: str
    created_at: str
    database_vendor: str
    schema: dict[str, list[str]]  # applied migrations by app
    tables: list[TableCount]  # in load order
    audit_entries: int
    audit_head_hash: str
    audit_broken_at: int | None
    audit_problem: str
    media_files: int
    media_bytes: int
    excluded: dict[str, str]  # table label: why it is not in the backup
    # The index key's check (keycheck.index_canary) of the installation that made the backup:
    # its blind indexes only find customers under that index key. Empty in older backups.
    index_check: str = ""

    @property
    def rows(self) -> int:
        return sum(table.rows for table in self.tables)

    def to_json(self) -> bytes:
        document = {
            "format": FORMAT,
            "bankdesk_version": self.bankdesk_version,
            "created_at": self.created_at,
            "database_vendor": self.database_vendor,
            "tables": [{"model": t.model, "table": t.table, "rows": t.rows} for t in self.tables],
            "audit": {
                "entries": self.audit_entries,
                "head_hash": self.audit_head_hash,
                "broken_at": self.audit_broken_at,
                "problem": self.audit_problem,
            },
            "media": {"files": self.media_files, "bytes": self.media_bytes},
            "excluded": self.excluded,
            "schema": self.schema,
            "index_check": self.index_check,
        }
        return json.dumps(document, ensure_ascii=False, indent=1).encode()

    @classmethod
    def from_json(cls, raw: bytes, name: str) -> Manifest:
        try:
            data: dict[str, Any] = json.loads(raw)
            audit, media = data["audit"], data["media"]
            manifest = cls(
                bankdesk_version=str(data["bankdesk_version"]),
                created_at=str(data["created_at"]),
                database_vendor=str(data["database_vendor"]),
                schema={str(app): [str(n) for n in names] for app, names in data["schema"].items()},
                tables=[
                    TableCount(str(t["model"]), str(t["table"]), int(t["rows"]))
                    for t in data["tables"]
                ],
                audit_entries=int(audit["entries"]),
                audit_head_hash=str(audit["head_hash"]),
                audit_broken_at=None if audit["broken_at"] is None else int(audit["broken_at"]),
                audit_problem=str(audit["problem"]),
                media_files=int(media["files"]),
                media_bytes=int(media["bytes"]),
                excluded={str(k): str(v) for k, v in data["excluded"].items()},
                index_check=str(data.get("index_check", "")),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise BackupUnreadable(f"{name} has a manifest that cannot be read") from exc
        if data.get("format") != FORMAT:
            raise BackupUnreadable(f"{name} has a manifest of another format")
        return manifest


@dataclass(frozen=True)
class TableCheck:
    model: str
    table: str
    expected: int
    found: int


@dataclass(frozen=True)
class BackupCheck:
    """A loaded copy of a backup, set against its manifest."""

    manifest: Manifest
    tables: list[TableCheck]
    audit: ChainReport
    media_files: int
    media_bytes: int

    @property
    def problems(self) -> list[str]:
        found = [
            f"{t.table}: {t.found:,} rows, the backup says {t.expected:,}"
            for t in self.tables
            if t.found != t.expected
        ]
        m = self.manifest
        if (self.audit.entries, self.audit.head_hash, self.audit.broken_at) != (
            m.audit_entries,
            m.audit_head_hash,
            m.audit_broken_at,
        ):
            state = "intact" if self.audit.is_intact else f"broken at #{self.audit.broken_at}"
            found.append(
                f"audit chain: {self.audit.entries:,} entries ending {self.audit.head_hash[:12]} "
                f"({state}), the backup says {m.audit_entries:,} ending {m.audit_head_hash[:12]}"
            )
        if (self.media_files, self.media_bytes) != (m.media_files, m.media_bytes):
            found.append(
                f"uploads: {self.media_files:,} files of {self.media_bytes:,} bytes, the backup "
                f"says {m.media_files:,} files of {m.media_bytes:,} bytes"
            )
        return found
