"""SQLite's writers queue in turn across processes too: `bankdesk up` serves from a web process
per core beside a worker, and every one of them writes to the one database file."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.db import connection

PROCESSES = 3
WRITERS = 8
TRANSACTIONS = 40

# One process: WRITERS threads, each committing TRANSACTIONS short write transactions that hold
# the write lock a few milliseconds, as a service's work does. Prints the errors it met.
WRITER = textwrap.dedent(
    """
    import json, sys, threading, time
    import django
    django.setup()
    from django.conf import settings
    from django.db.utils import load_backend

    path, process = sys.argv[1], int(sys.argv[2])
    writers, transactions = int(sys.argv[3]), int(sys.argv[4])
    backend = load_backend(settings.DATABASES["default"]["ENGINE"])
    # Two seconds' wait, not the configured twenty, so a starved writer shows within the test.
    options = dict(settings.DATABASES["default"]["OPTIONS"], timeout=2)
    options["init_command"] = options["init_command"].replace(
        "busy_timeout=20000", "busy_timeout=2000"
    )
    settings_dict = dict(settings.DATABASES["default"], NAME=path, OPTIONS=options)
    start = threading.Barrier(writers)
    errors = []

    def write(writer):
        wrapper = backend.DatabaseWrapper(settings_dict, f"writer-{writer}")
        try:
            start.wait()
            for n in range(transactions):
                wrapper.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
                try:
                    with wrapper.cursor() as cursor:
                        cursor.execute(
                            "INSERT INTO entry VALUES (%s, %s, %s)", [process, writer, n]
                        )
                    time.sleep(0.004)
                    wrapper.commit()
                except BaseException:
                    wrapper.rollback()
                    raise
                finally:
                    wrapper.set_autocommit(True)
        except BaseException as exc:
            errors.append(repr(exc))
        finally:
            wrapper.close()

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(json.dumps(errors))
    """
)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's single writer")
def test_writers_of_several_processes_all_commit_in_turn(tmp_path: Path) -> None:
    database = tmp_path / "processes.sqlite3"
    with sqlite3.connect(database) as setup:
        setup.execute("PRAGMA journal_mode=WAL")
        setup.execute("CREATE TABLE entry (process INTEGER, writer INTEGER, n INTEGER)")
    environment = dict(os.environ, BANKDESK_HOME=str(tmp_path / "home"))
    environment.pop("DATABASE_URL", None)
    children = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                WRITER,
                str(database),
                str(process),
                str(WRITERS),
                str(TRANSACTIONS),
            ],
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for process in range(PROCESSES)
    ]
    errors = []
    for child in children:
        out, err = child.communicate(timeout=300)
        assert child.returncode == 0, err
        errors += json.loads(out.strip().splitlines()[-1])
    assert errors == []
    with sqlite3.connect(database) as check:
        (count,) = check.execute("SELECT count(*) FROM entry").fetchone()
    assert count == PROCESSES * WRITERS * TRANSACTIONS
