"""Writers append to the audit log without queuing on one another; the chain still comes out
whole, in the order entries committed, with no gap where a transaction rolled back."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from django.db import connection, connections, transaction

from bankdesk.security.audit import audit_chain, audit_record, audit_verify
from bankdesk.security.models import AuditEntry
from bankdesk.tickets.services import case_create

# On SQLite every writer takes the one database lock at BEGIN: writers queue there by design,
# and commit in the order they began.
needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs DATABASE_URL (PostgreSQL)"
)


@contextmanager
def _open_transaction_in_another_connection(work: Callable[[], object]) -> Iterator[None]:
    """Run `work` in a transaction on a second connection and keep that transaction open (as
    a slow request would) until the block ends; then commit it."""
    started, finish = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def hold() -> None:
        try:
            with transaction.atomic():
                work()
                started.set()
                finish.wait(timeout=120)
        except BaseException as exc:  # reported below; a thread must not die silently
            errors.append(exc)
            started.set()
        finally:
            connections.close_all()

    thread = threading.Thread(target=hold)
    thread.start()
    assert started.wait(timeout=120)
    try:
        yield
    finally:
        finish.set()
        thread.join()
    assert errors == []


def _appends_without_waiting(agent, action: str) -> None:
    """Append one entry and commit; a lock held by another transaction fails it at once."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            # Not a timing assertion: a writer that needs a lock someone else holds raises
            # LockNotAvailable here instead of waiting for it.
            cursor.execute("SET LOCAL lock_timeout = '3s'")
        audit_record(actor=agent, action=action, object_type="staff.user", object_id=agent.pk)


@pytest.mark.postgresql
@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_an_open_write_does_not_hold_up_another_writers_audit_entry(agent):
    slow = lambda: audit_record(actor=agent, action="case.slow_write", object_type="x")  # noqa: E731

    with _open_transaction_in_another_connection(slow):
        _appends_without_waiting(agent, "case.quick_write")
        # Committed, and chained, while the slow writer's entry is still uncommitted.
        quick = AuditEntry.objects.get(action="case.quick_write")
        assert quick.sequence is not None

    assert audit_verify().is_intact


@pytest.mark.postgresql
@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_an_entry_committed_late_is_chained_after_those_committed_before_it(agent):
    audit_chain(wait=True)  # the agent's own creation
    slow = lambda: audit_record(actor=agent, action="case.slow_write", object_type="x")  # noqa: E731

    with _open_transaction_in_another_connection(slow):
        _appends_without_waiting(agent, "case.quick_write")

    audit_chain(wait=True)
    slow_entry = AuditEntry.objects.get(action="case.slow_write")
    quick_entry = AuditEntry.objects.get(action="case.quick_write")
    assert slow_entry.pk < quick_entry.pk  # appended first...
    assert slow_entry.sequence == quick_entry.sequence + 1  # ...chained after it committed
    assert audit_verify().is_intact


@pytest.mark.django_db(transaction=True)
def test_an_entry_rolled_back_leaves_no_gap_in_the_chain(agent):
    def abandoned_write() -> None:
        with transaction.atomic():
            audit_record(actor=agent, action="case.abandoned", object_type="x")
            raise RuntimeError("the change it recorded failed")

    with pytest.raises(RuntimeError, match="failed"):
        abandoned_write()
    with transaction.atomic():
        audit_record(actor=agent, action="case.kept", object_type="x")

    entries = list(AuditEntry.objects.order_by("sequence"))
    assert [e.sequence for e in entries] == list(range(1, len(entries) + 1))
    assert "case.abandoned" not in {e.action for e in entries}
    report = audit_verify()
    assert report.is_intact and report.unchained == 0


THREADS = 8
PER_THREAD = 6


@pytest.mark.django_db(transaction=True)
def test_many_desks_opening_cases_at_once_leave_one_whole_chain(agent):
    """Each commit chains what it finds, skipping when another chainer is at work: nobody
    calls the chainer here, and every entry still ends up linked exactly once."""
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def open_cases() -> None:
        try:
            barrier.wait()
            for i in range(PER_THREAD):
                case_create(subject=f"并发 {i}", channel="phone", actor=agent, text="转账失败")
        except BaseException as exc:  # reported below; a thread must not die silently
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=open_cases) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    report = audit_verify()
    assert report.is_intact
    assert report.unchained == 0
    assert report.entries == AuditEntry.objects.count()
    assert AuditEntry.objects.filter(action="case.created").count() == THREADS * PER_THREAD
