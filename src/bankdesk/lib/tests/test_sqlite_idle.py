"""SQLite connections are kept for the next request, never one left in a transaction or after an
error: opening one costs milliseconds of CPU, and under ASGI each request starts afresh."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import DatabaseError, connection
from django.db.utils import load_backend

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's own connections")


def _wrapper(path: Path, alias: str) -> Any:
    backend = load_backend(settings.DATABASES["default"]["ENGINE"])
    return backend.DatabaseWrapper(dict(settings.DATABASES["default"], NAME=str(path)), alias)


def test_a_closed_connection_is_the_next_ones(tmp_path: Path, django_db_blocker: Any) -> None:
    with django_db_blocker.unblock():
        first = _wrapper(tmp_path / "idle.sqlite3", "first")
        with first.cursor() as cursor:
            cursor.execute("CREATE TABLE entry (n INTEGER)")
        raw = first.connection
        first.close()
        second = _wrapper(tmp_path / "idle.sqlite3", "second")
        with second.cursor() as cursor:
            cursor.execute("INSERT INTO entry VALUES (1)")
            cursor.execute("PRAGMA foreign_keys")
            assert cursor.fetchone() == (1,)  # set up once, still in force
        assert second.connection is raw
        second.close()


def test_a_connection_that_met_an_error_is_closed_not_kept(
    tmp_path: Path, django_db_blocker: Any
) -> None:
    with django_db_blocker.unblock():
        first = _wrapper(tmp_path / "error.sqlite3", "first")
        with pytest.raises(DatabaseError), first.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table")
        raw = first.connection
        first.errors_occurred = True  # as Django marks it when a request's query fails
        first.close()
        second = _wrapper(tmp_path / "error.sqlite3", "second")
        second.ensure_connection()
        assert second.connection is not raw
        second.close()


def test_a_connection_left_in_a_transaction_is_closed_not_kept(
    tmp_path: Path, django_db_blocker: Any
) -> None:
    with django_db_blocker.unblock():
        first = _wrapper(tmp_path / "open.sqlite3", "first")
        with first.cursor() as cursor:
            cursor.execute("CREATE TABLE entry (n INTEGER)")
        first.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
        with first.cursor() as cursor:
            cursor.execute("INSERT INTO entry VALUES (1)")
        raw = first.connection
        first.close()  # a transaction nobody committed: closed, so it is rolled back
        second = _wrapper(tmp_path / "open.sqlite3", "second")
        with second.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM entry")
            assert cursor.fetchone() == (0,)
        assert second.connection is not raw
        second.close()
