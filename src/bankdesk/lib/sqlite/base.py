"""Django's SQLite backend, with the write transactions of one process queued in turn.

SQLite lets one writer at a time into the database. A second writer that finds it taken does
not queue: its busy handler sleeps (1, 2, 5 … up to 100 ms) and tries again until its busy
timeout is spent. Under load that is a lottery, not a queue: a writer that waits can lose every
draw to writers that came after it, and fails with "database is locked" after the whole timeout
although the database was never stuck — while most of the time goes to sleeping, not writing.

So every write transaction of this process first takes its turn on a first-come, first-served
queue (one per database file), and only then begins IMMEDIATE. The queue hands the turn on as
each transaction commits or rolls back, so in-process writers never meet SQLite's busy handler;
it is left with the few writers of other processes (the worker beside the web server).
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

from django.db import OperationalError
from django.db.backends.sqlite3 import base

DEFAULT_WAIT_SECONDS = 5.0


class WriterQueue:
    """A lock that is handed to its waiters in the order they asked for it."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._waiting: deque[threading.Event] = deque()
        self._held = False

    def acquire(self, timeout: float) -> bool:
        with self._mutex:
            if not self._held:
                self._held = True
                return True
            turn = threading.Event()
            self._waiting.append(turn)
        if turn.wait(timeout):
            return True
        with self._mutex:
            if turn.is_set():  # handed over just as the wait ran out: it is ours
                return True
            self._waiting.remove(turn)
            return False

    def release(self) -> None:
        with self._mutex:
            if self._waiting:
                self._waiting.popleft().set()  # straight to the next in line: stays held
            else:
                self._held = False


_queues: dict[str, WriterQueue] = {}
_queues_lock = threading.Lock()


def writer_queue(name: str) -> WriterQueue:
    """The queue of the database file `name` (each test database gets its own)."""
    with _queues_lock:
        return _queues.setdefault(name, WriterQueue())


# Django's wrapper, whose private transaction hooks the type stubs do not declare.
_django: Any = base.DatabaseWrapper


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._has_write_turn = False

    def _wait_seconds(self) -> float:
        return float(self.settings_dict.get("OPTIONS", {}).get("timeout", DEFAULT_WAIT_SECONDS))

    def _start_transaction_under_autocommit(self) -> None:
        if not self._has_write_turn:
            queue = writer_queue(str(self.settings_dict["NAME"]))
            if not queue.acquire(self._wait_seconds()):
                raise OperationalError(
                    "database is locked: no turn to write within "
                    f"{self._wait_seconds():g} s (writers of this process queued ahead)"
                )
            self._has_write_turn = True
        try:
            _django._start_transaction_under_autocommit(self)
        except BaseException:
            self._give_up_write_turn()
            raise

    def _give_up_write_turn(self) -> None:
        if self._has_write_turn:
            self._has_write_turn = False
            writer_queue(str(self.settings_dict["NAME"])).release()

    def _commit(self) -> Any:
        try:
            return _django._commit(self)
        finally:
            self._give_up_write_turn()

    def _rollback(self) -> Any:
        try:
            return _django._rollback(self)
        finally:
            self._give_up_write_turn()

    def _close(self) -> Any:
        try:
            return _django._close(self)
        finally:
            self._give_up_write_turn()
