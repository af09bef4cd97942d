"""SQLite's writers queue in turn: many at once all get through, none is starved into
"database is locked" while the database is merely busy."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.db.utils import load_backend

WRITERS = 20
TRANSACTIONS = 40


@contextmanager
def _atomic(wrapper: Any) -> Iterator[None]:
    """A transaction begun and ended exactly as `transaction.atomic` does on SQLite."""
    wrapper.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
    try:
        yield
        wrapper.commit()
    except BaseException:
        wrapper.rollback()
        raise
    finally:
        wrapper.set_autocommit(True)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's single writer")
def test_twenty_writers_at_once_all_commit_in_turn(tmp_path: Path, django_db_blocker: Any) -> None:
    with django_db_blocker.unblock():
        _twenty_writers(tmp_path)


def _twenty_writers(tmp_path: Path) -> None:
    backend = load_backend(settings.DATABASES["default"]["ENGINE"])
    # A two-second wait, not the configured twenty, so a starved writer shows within the test.
    options = dict(settings.DATABASES["default"]["OPTIONS"], timeout=2)
    assert "busy_timeout=20000" in options["init_command"]
    options["init_command"] = options["init_command"].replace(
        "busy_timeout=20000", "busy_timeout=2000"
    )
    settings_dict = dict(
        settings.DATABASES["default"], NAME=str(tmp_path / "writers.sqlite3"), OPTIONS=options
    )
    setup = backend.DatabaseWrapper(settings_dict, "writers-setup")
    with setup.cursor() as cursor:
        cursor.execute("CREATE TABLE entry (writer INTEGER, n INTEGER)")
    setup.close()
    start = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def write(writer: int) -> None:
        wrapper = backend.DatabaseWrapper(settings_dict, f"writer-{writer}")
        try:
            start.wait()
            for n in range(TRANSACTIONS):
                with _atomic(wrapper):
                    with wrapper.cursor() as cursor:
                        cursor.execute("INSERT INTO entry VALUES (%s, %s)", [writer, n])
                    time.sleep(0.004)  # the rest of a service's work, holding the write lock
        except BaseException as exc:  # reported below; a thread must not die silently
            errors.append(exc)
        finally:
            wrapper.close()

    threads = [threading.Thread(target=write, args=(w,)) for w in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    check = backend.DatabaseWrapper(settings_dict, "writers-check")
    with check.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM entry")
        assert cursor.fetchone()[0] == WRITERS * TRANSACTIONS
    check.close()
