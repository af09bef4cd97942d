"""Upgrading an installation whose audit chain was unkeyed: re-chained under the key, with
every old hash kept and still checked, so nothing changed before the upgrade is sealed over."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor

from bankdesk.security.audit import audit_chain, audit_record, audit_verify
from bankdesk.security.models import AuditEntry, AuditHead

BEFORE = ("security", "0003_audit_append_only_trigger")
STARTED = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def _unkeyed_hash(row: dict[str, object], previous: str) -> str:
    """How the chain was hashed before the upgrade, written out here on its own."""
    content = [
        row["sequence"],
        row["actor_id"],
        row["actor_name"],
        row["action"],
        row["object_type"],
        row["object_id"],
        row["fields"],
        row["reason"],
        row["origin_ip"],
        row["request_id"],
        row["created_at"].isoformat(timespec="microseconds"),  # type: ignore[attr-defined]
        previous,
    ]
    encoded = json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()


@pytest.fixture
def before_the_upgrade() -> Iterator[object]:
    """The database as the previous release left it; brought up to date again afterwards."""
    executor = MigrationExecutor(connection)
    executor.migrate([BEFORE])
    try:
        yield executor.loader.project_state([BEFORE]).apps
    finally:
        _upgrade()


def _upgrade() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def _old_chain(old_apps, entries: int, *, changed_afterwards: int | None = None) -> list[str]:
    """An unkeyed chain as the previous release wrote it; optionally with one entry's action
    changed later by someone who did not recompute the hashes."""
    entry_model = old_apps.get_model("security", "AuditEntry")
    head_model = old_apps.get_model("security", "AuditHead")
    previous, hashes = "0" * 64, []
    for sequence in range(1, entries + 1):
        row = {
            "sequence": sequence,
            "actor_id": None,
            "actor_name": "system",
            "action": f"case.step_{sequence}",
            "object_type": "tickets.case",
            "object_id": str(sequence),
            "fields": ["status"],
            "reason": "升级前的记录",
            "origin_ip": "10.1.2.3",
            "request_id": f"{sequence:032x}",
            "created_at": STARTED + timedelta(minutes=sequence),
        }
        previous = _unkeyed_hash(row, previous)
        hashes.append(previous)
        entry_model.objects.create(
            **row, previous_hash=hashes[-2] if sequence > 1 else "0" * 64, entry_hash=previous
        )
    head_model.objects.update_or_create(
        pk=1, defaults={"sequence": entries, "entry_hash": previous}
    )
    if changed_afterwards is not None:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("ALTER TABLE security_auditentry DISABLE TRIGGER USER")
            else:
                cursor.execute("DROP TRIGGER security_auditentry_no_update")
            cursor.execute(
                "UPDATE security_auditentry SET action = 'case.never_happened' WHERE sequence = %s",
                [changed_afterwards],
            )
    return hashes


@pytest.mark.django_db(transaction=True)
def test_an_intact_unkeyed_chain_is_rechained_under_the_key(before_the_upgrade):
    hashes = _old_chain(before_the_upgrade, 5)

    _upgrade()

    entries = list(AuditEntry.objects.order_by("sequence"))
    assert [e.legacy_hash for e in entries] == hashes
    assert all(len(e.content_mac) == 64 and e.link for e in entries)
    report = audit_verify()
    assert report.is_intact and report.entries == 5
    assert AuditHead.objects.get().link == report.head_hash == entries[-1].link

    # The chain goes on from there, keyed.
    with transaction.atomic():
        audit_record(actor=None, action="case.after_upgrade", object_type="tickets.case")
    audit_chain()
    assert AuditEntry.objects.get(action="case.after_upgrade").sequence == 6
    assert audit_verify().is_intact


@pytest.mark.django_db(transaction=True)
def test_a_change_made_before_the_upgrade_is_still_named_after_it(before_the_upgrade):
    _old_chain(before_the_upgrade, 5, changed_afterwards=3)

    _upgrade()

    report = audit_verify()
    assert report.broken_at == 3
    assert "changed before the chain was keyed" in report.problem


@pytest.mark.django_db(transaction=True)
def test_a_new_installation_still_counts_as_empty_for_a_restore(before_the_upgrade):
    """`backup restore` refuses a database holding data; the upgrade adds none to an empty one."""
    from bankdesk.security.backup_tables import tables_with_rows

    _upgrade()

    assert not AuditHead.objects.exists()
    assert tables_with_rows(using="default") == []
