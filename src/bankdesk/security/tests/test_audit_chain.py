"""The audit chain: every change recorded with its origin, sealed under the audit key; any
tampering named by `audit verify`, down to the first entry that does not add up."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, IntegrityError, connection, transaction

from bankdesk.security.audit import audit_chain, audit_record, audit_verify, entry_content
from bankdesk.security.audit_mac import GENESIS, AuditKey
from bankdesk.security.models import AuditEntry, AuditHead
from bankdesk.tickets.services import case_create, case_status_change

ENTRY_TABLE = AuditEntry._meta.db_table
HEAD_TABLE = AuditHead._meta.db_table


def _some_history(agent, customer) -> list[AuditEntry]:
    case = case_create(
        subject="转账失败", channel="app", actor=agent, customer=customer, text="转账失败"
    )
    case_status_change(case=case, status="open", actor=agent)
    audit_chain()  # what runs after each commit; these tests keep one transaction open
    return list(AuditEntry.objects.order_by("sequence"))


def _without_the_guard(cursor) -> None:
    """What the database's owner can do, and the application's user can on a database it owns."""
    if connection.vendor == "postgresql":
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # flush pending FK checks first
        cursor.execute(f"ALTER TABLE {ENTRY_TABLE} DISABLE TRIGGER USER")
    else:
        cursor.execute("DROP TRIGGER IF EXISTS security_auditentry_no_update")


def _tamper(entry: AuditEntry, **columns: object) -> None:
    assignments = ", ".join(f"{column} = %s" for column in columns)
    with connection.cursor() as cursor:
        _without_the_guard(cursor)
        cursor.execute(
            f"UPDATE {ENTRY_TABLE} SET {assignments} WHERE id = %s", [*columns.values(), entry.pk]
        )


def _cover_tracks(sequence: int, link: str) -> None:
    """The attacker also rewinds the head row, which the application's user may update."""
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {HEAD_TABLE} SET sequence = %s, link = %s", [sequence, link])


@pytest.mark.django_db
def test_changes_are_chained_with_field_names_but_never_values(agent, customer):
    entries = _some_history(agent, customer)
    assert [e.sequence for e in entries] == list(range(1, len(entries) + 1))
    actions = [e.action for e in entries]
    assert "customer.create" in actions
    assert "identity.add" in actions
    assert "case.status_changed" in actions
    for entry in entries:
        text = repr(
            [entry.fields, entry.reason, entry.object_id, entry.actor_name, entry.request_id]
        )
        assert "13812345678" not in text
        assert "王小明" not in text
    report = audit_verify()
    assert report.is_intact and report.entries == len(entries)
    assert report.head_hash == entries[-1].link == AuditHead.objects.get().link


@pytest.mark.django_db
def test_requests_record_the_origin_address(agent_api):
    agent_api.post("/cases", {"subject": "x", "channel": "app"})
    entry = AuditEntry.objects.filter(action="case.created").latest("id")
    assert entry.origin_ip == "127.0.0.1"
    assert entry.actor_name == "agent"
    assert len(entry.request_id) == 32


@pytest.mark.django_db
def test_an_entry_is_sealed_when_written_and_linked_in_commit_order(agent):
    with transaction.atomic():
        entry = audit_record(actor=agent, action="staff.viewed", object_type="staff.user")
    assert len(entry.content_mac) == 64
    if connection.vendor == "postgresql":
        # Linked once its transaction commits (this test's never does); SQLite writers link
        # their own entries, holding the database's one write lock as they do.
        assert entry.sequence is None and entry.link == ""

    audit_chain()

    entry.refresh_from_db()
    assert entry.sequence == AuditEntry.objects.count() and entry.link  # last in, last linked
    report = audit_verify()
    assert report.is_intact and report.unchained == 0


@pytest.mark.django_db
def test_the_database_itself_refuses_to_rewrite_an_entry(agent, customer):
    entry = _some_history(agent, customer)[0]
    refused = pytest.raises(DatabaseError, match="append-only")
    with refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {ENTRY_TABLE} SET action = 'x' WHERE id = %s", [entry.pk])
    # Not even its place in the chain, once it has one.
    with refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {ENTRY_TABLE} SET link = %s WHERE id = %s", [GENESIS, entry.pk])
    if connection.vendor == "postgresql":
        with refused, transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {ENTRY_TABLE} WHERE id = %s", [entry.pk])


SEALED = [
    f.column
    for f in AuditEntry._meta.concrete_fields
    if f.name not in {"sequence", "link"}  # what the chainer fills in, once
]


@pytest.mark.django_db
@pytest.mark.parametrize("column", SEALED)
def test_the_database_refuses_every_change_to_an_entry_waiting_to_be_chained(agent, column):
    """Only the chainer's one UPDATE passes the database's guard: a column added to the model
    without joining the guard fails here."""
    # As a writer leaves it before the chainer comes (the MAC is not under test here).
    [entry] = AuditEntry.objects.bulk_create(
        [AuditEntry(actor=agent, action="staff.viewed", nonce="n", content_mac="m" * 64)]
    )
    value = {
        "id": entry.pk + 1000,
        "actor_id": None,
        "fields": '["x"]',
        "origin_ip": "10.0.0.1",
        "created_at": "2001-01-01 00:00:00+00:00",
    }.get(column, "x")
    cast = {"fields": "jsonb", "origin_ip": "inet", "created_at": "timestamptz"}.get(column)
    placeholder = f"CAST(%s AS {cast})" if cast and connection.vendor == "postgresql" else "%s"
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            f"UPDATE {ENTRY_TABLE} SET {column} = {placeholder} WHERE id = %s", [value, entry.pk]
        )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("column", "change"),
    [
        ("action", lambda v: v[:-1] + chr(ord(v[-1]) ^ 1)),
        ("actor_name", lambda v: v + "x"),
        ("object_id", lambda v: v + "0"),
        ("reason", lambda v: v + "。"),
        ("nonce", lambda v: ("0" if v[0] != "0" else "1") + v[1:]),
        ("content_mac", lambda v: ("0" if v[0] != "0" else "1") + v[1:]),
        ("link", lambda v: ("0" if v[0] != "0" else "1") + v[1:]),
    ],
)
def test_changing_one_byte_of_any_entry_is_caught_and_named(agent, customer, column, change):
    entries = _some_history(agent, customer)
    victim = entries[len(entries) // 2]
    _tamper(victim, **{column: change(getattr(victim, column))})
    report = audit_verify()
    assert report.broken_at == victim.sequence
    with pytest.raises(CommandError, match=f"#{victim.sequence}:"):
        call_command("audit", "verify")


@pytest.mark.django_db
def test_verify_names_the_first_of_several_broken_entries(agent, customer):
    entries = _some_history(agent, customer)
    for victim in (entries[-2], entries[2], entries[4]):
        _tamper(victim, action="audit.forged")
    assert audit_verify().broken_at == entries[2].sequence


@pytest.mark.django_db
def test_rewriting_an_entry_and_recomputing_the_chain_without_the_key_is_named(agent, customer):
    """The attacker can reach the database but not the key: whatever key they seal with, the
    rewritten entry is the first that does not verify."""
    entries = _some_history(agent, customer)
    position = len(entries) // 2
    victim = entries[position]
    forger = AuditKey(b"the attacker's best guess at the bank's audit key")
    link = entries[position - 1].link
    for entry in entries[position:]:
        if entry.pk == victim.pk:
            entry.action = "case.nothing_happened"
        entry.content_mac = forger.entry_mac(entry_content(entry.__dict__))
        link = forger.link_mac(sequence=entry.sequence, entry_mac=entry.content_mac, previous=link)
        _tamper(entry, action=entry.action, content_mac=entry.content_mac, link=link)
    _cover_tracks(entries[-1].sequence, link)

    report = audit_verify()
    assert report.broken_at == victim.sequence
    assert "content does not match its MAC" in report.problem


@pytest.mark.django_db
def test_removing_the_last_entries_is_caught(agent, customer):
    last = _some_history(agent, customer)[-1]
    with connection.cursor() as cursor:
        _without_the_guard(cursor)
        cursor.execute(f"DELETE FROM {ENTRY_TABLE} WHERE id = %s", [last.pk])
    assert audit_verify().broken_at == last.sequence


@pytest.mark.django_db
def test_an_entry_removed_from_the_middle_is_named(agent, customer):
    entries = _some_history(agent, customer)
    with connection.cursor() as cursor:
        _without_the_guard(cursor)
        cursor.execute(f"DELETE FROM {ENTRY_TABLE} WHERE id = %s", [entries[3].pk])
    report = audit_verify()
    assert (report.broken_at, report.problem) == (4, "entry missing from the chain")


@pytest.mark.django_db
def test_a_copy_of_an_entry_is_refused_by_the_database(agent, customer):
    entry = _some_history(agent, customer)[0]
    columns = [f.column for f in AuditEntry._meta.concrete_fields if f.column not in {"id"}]
    copied = ", ".join("NULL" if c in {"sequence"} else c for c in columns)
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {ENTRY_TABLE} ({', '.join(columns)}) "
            f"SELECT {copied} FROM {ENTRY_TABLE} WHERE id = %s",
            [entry.pk],
        )


@pytest.mark.django_db
def test_an_entry_slipped_in_without_the_key_is_named_before_it_is_chained(agent, customer):
    entries = _some_history(agent, customer)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {ENTRY_TABLE} (action, actor_name, object_type, object_id, fields, "
            "reason, request_id, created_at, nonce, content_mac, link, legacy_hash) VALUES "
            "('case.closed', 'agent', 'tickets.case', '1', '[]', '', '', %s, '', %s, '', '')",
            [entries[-1].created_at, "f" * 64],
        )
    report = audit_verify()
    assert report.broken_at is None and "not yet chained, does not match its MAC" in report.problem


@pytest.mark.django_db
def test_audit_verify_passes_on_an_honest_chain(agent, customer, capsys):
    entries = _some_history(agent, customer)
    call_command("audit", "verify")
    output = capsys.readouterr().out
    assert f"audit chain intact: {len(entries)} entries" in output
    assert "no checkpoints yet" in output
