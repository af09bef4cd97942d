"""A database momentarily out of reach answers 503 with Retry-After, never 500; on PostgreSQL
connections come from a bounded pool, however many requests run at once."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import connection, connections, transaction

from bankdesk.conftest import ApiClient
from bankdesk.staff.models import User
from bankdesk.tickets.models import Case

pytestmark = pytest.mark.django_db(transaction=True)


@contextmanager
def database_held_elsewhere() -> Iterator[None]:
    """Another thread holds what a write needs: SQLite's write turn, or on PostgreSQL every
    connection of a two-connection pool."""
    parties = 2 if connection.vendor == "sqlite" else 3
    release, held = threading.Event(), threading.Barrier(parties, timeout=30)
    connection.close()  # this thread's connection goes back to the pool first

    def hold() -> None:
        try:
            with transaction.atomic():
                Case.objects.exists()
                held.wait()
                release.wait(30)
        finally:
            connections.close_all()

    holders = [threading.Thread(target=hold) for _ in range(held.parties - 1)]
    for holder in holders:
        holder.start()
    held.wait()
    try:
        yield
    finally:
        release.set()
        for holder in holders:
            holder.join()


@pytest.fixture
def briefly_patient() -> Iterator[None]:
    """The request gives up waiting for the database after a fraction of a second."""
    options = connection.settings_dict["OPTIONS"]
    saved = dict(options)
    connection.close()
    if connection.vendor == "sqlite":
        options["timeout"] = 0.3
        options["init_command"] = options["init_command"].replace(
            "busy_timeout=20000", "busy_timeout=300"
        )
    else:
        connection.close_pool()
        options["pool"] = {**options["pool"], "max_size": 2, "min_size": 0, "timeout": 1}
    yield
    connection.close()
    if connection.vendor != "sqlite":
        connection.close_pool()
    options.clear()
    options.update(saved)


def test_a_write_that_cannot_reach_the_database_answers_503_and_stores_nothing(
    agent: User, api_for: Callable[[User], ApiClient], briefly_patient: None
) -> None:
    api = api_for(agent)
    api.client.raise_request_exception = False  # answered as a server answers, not raised
    with database_held_elsewhere():
        response: Any = api.post("/cases", {"subject": "转账失败", "channel": "phone"})
        # A failed sign-in is recorded (lockout counting): a write outside the API.
        sign_in = api.client.post("/", {"username": "agent", "password": "wrong password"})
    assert response.status_code == 503, response.content
    assert response["Retry-After"] == "2" and response.json_body["code"] == "unavailable"
    assert sign_in.status_code == 503 and sign_in["Retry-After"] == "2"
    assert Case.objects.count() == 0
    # The moment passes, the same request succeeds.
    assert api.post("/cases", {"subject": "转账失败", "channel": "phone"}).status_code == 201


@pytest.mark.postgresql
def test_many_requests_at_once_share_a_bounded_pool_of_connections(agent: User) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs DATABASE_URL (PostgreSQL)")
    pool_size = connection.settings_dict["OPTIONS"]["pool"]["max_size"]
    start, errors, seen = threading.Barrier(40), [], []
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
        before = cursor.fetchone()[0]
    # Connections to the database that are not the pool's (a test's leftovers, a server's).
    elsewhere = before - connection.pool.get_stats()["pool_size"]
    connection.close()

    def read() -> None:
        try:
            start.wait()
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                )
                seen.append(cursor.fetchone()[0])
                cursor.execute("SELECT pg_sleep(0.2)")
        except BaseException as exc:  # reported below; a thread must not die silently
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=read) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    # Forty at once, and never more connections than the pool holds.
    assert max(seen) - elsewhere <= pool_size < 40
