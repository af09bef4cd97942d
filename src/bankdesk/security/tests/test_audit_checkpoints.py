"""Signed checkpoints outside the database: what the database's own user can do to the audit
table (empty it, cut its tail, rewrite and relink it) is named against the last checkpoint."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from bankdesk.security.audit import audit_chain, audit_verify, entry_content
from bankdesk.security.audit_checkpoints import (
    RESTORE,
    CheckpointConflict,
    audit_checkpoint_write,
    checkpoints_read,
)
from bankdesk.security.audit_mac import GENESIS, audit_key
from bankdesk.security.models import AuditEntry, AuditHead
from bankdesk.security.tasks import audit_chain_run
from bankdesk.tickets.services import case_create, case_status_change

ENTRY_TABLE = AuditEntry._meta.db_table
HEAD_TABLE = AuditHead._meta.db_table


def _history(agent, subject: str = "转账失败") -> list[AuditEntry]:
    case = case_create(subject=subject, channel="app", actor=agent, text=subject)
    case_status_change(case=case, status="open", actor=agent)
    audit_chain()
    return list(AuditEntry.objects.order_by("sequence"))


def _as_the_database_user(*statements: tuple[str, list[object]]) -> None:
    """The application's user owns the audit table unless the bank separates the roles: it
    may switch the guard off, and always update the head row."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE {ENTRY_TABLE} DISABLE TRIGGER USER")
        else:
            cursor.execute("DROP TRIGGER IF EXISTS security_auditentry_no_update")
        for sql, params in statements:
            cursor.execute(sql, params)


def _lines(folder: Path) -> list[dict[str, object]]:
    return [json.loads(line) for path in sorted(folder.glob("*.jsonl")) for line in path.open()]


@pytest.mark.django_db
def test_emptying_the_audit_table_is_caught_against_the_last_checkpoint(agent, capsys):
    entries = _history(agent)
    call_command("audit", "checkpoint")
    assert f"{len(entries)} entries" in capsys.readouterr().out
    emptied = "TRUNCATE" if connection.vendor == "postgresql" else "DELETE FROM"
    _as_the_database_user(
        (f"{emptied} {ENTRY_TABLE}", []),
        (f"UPDATE {HEAD_TABLE} SET sequence = 0, link = %s", [GENESIS]),
    )

    report = audit_verify()

    assert report.broken_at == 1
    assert f"entries #1 to #{len(entries)} are missing: the checkpoint of" in report.problem
    with pytest.raises(CommandError, match=r"broken at entry #1: .* counted"):
        call_command("audit", "verify")


@pytest.mark.django_db
def test_cutting_the_tail_and_rewinding_the_head_is_caught_against_the_last_checkpoint(agent):
    entries = _history(agent)
    call_command("audit", "checkpoint")
    kept = entries[:-3]
    _as_the_database_user(
        (f"DELETE FROM {ENTRY_TABLE} WHERE sequence > %s", [kept[-1].sequence]),
        (f"UPDATE {HEAD_TABLE} SET sequence = %s, link = %s", [kept[-1].sequence, kept[-1].link]),
    )

    report = audit_verify()

    assert report.broken_at == len(kept) + 1
    assert "missing" in report.problem


@pytest.mark.django_db
def test_rewriting_and_relinking_even_with_the_key_contradicts_the_checkpoint(agent):
    """Someone who holds the key too can make a rewritten chain add up, but not take back the
    checkpoint files already shipped: the first sealed entry it changed is named."""
    entries = _history(agent)
    call_command("audit", "checkpoint")
    key = audit_key()
    victim = entries[2]
    link = entries[1].link
    statements = []
    for entry in entries[2:]:
        if entry.pk == victim.pk:
            entry.action = "case.nothing_happened"
        entry.content_mac = key.entry_mac(entry_content(entry.__dict__))
        link = key.link_mac(sequence=entry.sequence, entry_mac=entry.content_mac, previous=link)
        statements.append(
            (
                f"UPDATE {ENTRY_TABLE} SET action = %s, content_mac = %s, link = %s WHERE id = %s",
                [entry.action, entry.content_mac, link, entry.pk],
            )
        )
    statements.append((f"UPDATE {HEAD_TABLE} SET link = %s", [link]))
    _as_the_database_user(*statements)

    report = audit_verify()

    assert report.broken_at == entries[-1].sequence
    assert "not the entry the checkpoint of" in report.problem


@pytest.mark.django_db
def test_a_checkpoint_line_altered_or_written_without_the_key_is_reported(
    agent, audit_checkpoints_apart
):
    _history(agent)
    call_command("audit", "checkpoint")
    path = next(audit_checkpoints_apart.glob("*.jsonl"))
    line = json.loads(path.read_text())
    path.write_text(path.read_text() + json.dumps({**line, "sequence": 1}) + "\n")

    report = audit_verify()

    assert report.broken_at is None
    assert f"{path.name}:2 does not match its MAC" in report.problem
    with pytest.raises(CommandError, match="does not match its MAC"):
        call_command("audit", "verify")


@pytest.mark.django_db
def test_checkpoints_under_another_key_are_named_as_such(agent, settings, audit_checkpoints_apart):
    _history(agent)
    call_command("audit", "checkpoint")
    theirs = audit_key().fingerprint
    settings.BANKDESK_AUDIT_KEY = "another installation's audit key, 32 characters or more"

    found = checkpoints_read()

    assert found.checkpoints == ()
    assert f"sealed with another audit key (fingerprint {theirs}" in found.problems[0]


@pytest.mark.django_db
def test_a_line_cut_short_by_a_crash_is_left_out(agent, audit_checkpoints_apart):
    _history(agent)
    call_command("audit", "checkpoint")
    path = next(audit_checkpoints_apart.glob("*.jsonl"))
    with path.open("a") as handle:
        handle.write('{"v":1,"kind":"checkpoint","sequ')

    assert audit_verify().is_intact


@pytest.mark.django_db
def test_checkpoint_files_are_private_lines_appended_one_per_checkpoint(
    agent, audit_checkpoints_apart
):
    _history(agent)
    call_command("audit", "checkpoint")
    _history(agent, "信用卡年费")
    call_command("audit", "checkpoint")

    lines = _lines(audit_checkpoints_apart)
    assert [line["sequence"] for line in lines] == [
        lines[0]["sequence"],
        AuditHead.objects.get().sequence,
    ]
    assert {line["key"] for line in lines} == {audit_key().fingerprint}
    path = next(audit_checkpoints_apart.glob("*.jsonl"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(audit_checkpoints_apart.stat().st_mode) in {0o700, 0o755}


@pytest.mark.django_db
def test_the_worker_links_what_is_left_and_seals_the_head_only_when_it_moved(
    agent, audit_checkpoints_apart
):
    case_create(subject="转账失败", channel="app", actor=agent)
    waiting = AuditEntry.objects.filter(sequence__isnull=True).count()

    assert audit_chain_run.call() == waiting
    assert audit_chain_run.call() == 0

    lines = _lines(audit_checkpoints_apart)
    assert [line["sequence"] for line in lines] == [AuditEntry.objects.count()]
    assert audit_verify().is_intact


@pytest.mark.django_db
def test_the_worker_does_not_sign_over_a_chain_that_lost_checkpointed_entries(agent):
    entries = _history(agent)
    audit_chain_run.call()
    _as_the_database_user(
        (f"DELETE FROM {ENTRY_TABLE} WHERE sequence > 2", []),
        (f"UPDATE {HEAD_TABLE} SET sequence = 2, link = %s", [entries[1].link]),
    )
    with pytest.raises(CheckpointConflict, match=f"fewer than the {len(entries)}"):
        audit_chain_run.call()
    with pytest.raises(CommandError, match="fewer than"):
        call_command("audit", "checkpoint")


@pytest.mark.django_db
def test_a_restore_record_releases_checkpoints_counting_entries_the_restore_gave_up(agent):
    """What `backup restore` leaves: the chain as it was in the backup, a restore record, and
    checkpoints from before that count entries the restore did not bring back."""
    entries = _history(agent)
    restored = entries[:-2]
    call_command("audit", "checkpoint")  # counts entries the backup will not hold
    _as_the_database_user(
        (f"DELETE FROM {ENTRY_TABLE} WHERE sequence > %s", [restored[-1].sequence]),
        (
            f"UPDATE {HEAD_TABLE} SET sequence = %s, link = %s",
            [restored[-1].sequence, restored[-1].link],
        ),
    )
    assert not audit_verify().is_intact

    audit_checkpoint_write(kind=RESTORE)
    assert audit_verify().is_intact

    # The chain goes on from the restored head, and binds again from the next checkpoint.
    _history(agent, "信用卡年费")
    call_command("audit", "checkpoint")
    report = audit_verify()
    assert report.is_intact and report.newest_checkpoint.sequence == report.entries
