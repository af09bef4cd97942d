"""The audit chain: every change recorded with its origin; any tampering named by `audit verify`."""

from __future__ import annotations

import itertools

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from bankdesk.security.audit import audit_verify
from bankdesk.security.models import AuditEntry
from bankdesk.tickets.services import case_create, case_status_change


def _some_history(agent, customer) -> None:
    case = case_create(
        subject="转账失败", channel="app", actor=agent, customer=customer, text="转账失败"
    )
    case_status_change(case=case, status="open", actor=agent)


@pytest.mark.django_db
def test_changes_are_chained_with_field_names_but_never_values(agent, customer):
    _some_history(agent, customer)
    entries = list(AuditEntry.objects.order_by("sequence"))
    assert [e.sequence for e in entries] == list(range(1, len(entries) + 1))
    assert all(e.previous_hash == p.entry_hash for p, e in itertools.pairwise(entries))
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
    assert audit_verify().is_intact


@pytest.mark.django_db
def test_requests_record_the_origin_address(agent_api):
    agent_api.post("/cases", {"subject": "x", "channel": "app"})
    entry = AuditEntry.objects.filter(action="case.created").latest("sequence")
    assert entry.origin_ip == "127.0.0.1"
    assert entry.actor_name == "agent"
    assert len(entry.request_id) == 32


def _tamper(entry: AuditEntry, column: str, value: object) -> None:
    table = AuditEntry._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # flush pending FK checks first
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        else:
            cursor.execute("DROP TRIGGER security_auditentry_no_update")
        cursor.execute(f"UPDATE {table} SET {column} = %s WHERE id = %s", [value, entry.pk])


@pytest.mark.django_db
def test_the_database_itself_refuses_to_rewrite_an_entry(agent, customer):
    _some_history(agent, customer)
    entry = AuditEntry.objects.order_by("sequence").first()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {AuditEntry._meta.db_table} SET action = 'x' WHERE id = %s",
            [entry.pk],
        )
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {AuditEntry._meta.db_table} WHERE id = %s", [entry.pk])


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("column", "change"),
    [
        ("action", lambda v: v[:-1] + chr(ord(v[-1]) ^ 1)),
        ("actor_name", lambda v: v + "x"),
        ("object_id", lambda v: v + "0"),
        ("entry_hash", lambda v: ("0" if v[0] != "0" else "1") + v[1:]),
        ("previous_hash", lambda v: ("0" if v[0] != "0" else "1") + v[1:]),
    ],
)
def test_changing_one_byte_of_any_entry_is_caught_and_named(agent, customer, column, change):
    _some_history(agent, customer)
    entries = list(AuditEntry.objects.order_by("sequence"))
    victim = entries[len(entries) // 2]
    _tamper(victim, column, change(getattr(victim, column)))
    report = audit_verify()
    assert report.broken_at == victim.sequence
    with pytest.raises(CommandError, match=f"#{victim.sequence}"):
        call_command("audit", "verify")


@pytest.mark.django_db
def test_removing_the_last_entries_is_caught(agent, customer):
    _some_history(agent, customer)
    last = AuditEntry.objects.order_by("-sequence").first()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"ALTER TABLE {AuditEntry._meta.db_table} DISABLE TRIGGER USER")
        cursor.execute(f"DELETE FROM {AuditEntry._meta.db_table} WHERE id = %s", [last.pk])
    assert audit_verify().broken_at == last.sequence


@pytest.mark.django_db
def test_audit_verify_passes_on_an_honest_chain(agent, customer, capsys):
    _some_history(agent, customer)
    call_command("audit", "verify")
    assert "audit chain intact" in capsys.readouterr().out
