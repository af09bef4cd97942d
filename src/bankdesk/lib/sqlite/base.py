"""Django's SQLite backend, with the write transactions of one process queued in turn.

SQLite lets one writer at a time into the database. A second writer that finds it taken does
not queue: its busy handler sleeps (1, 2, 5 … up to 100 ms) and tries again until its busy
timeout is spent. Under load that is a lottery, not a queue: a writer that waits can lose every
draw to writers that came after it, and fails with "database is locked" after the whole timeout
although the database was never stuck — while most of the time goes to sleeping, not writing.

So every write transaction of this process first takes its turn on a first-come, first-served
queue (one per database file), and only then begins IMMEDIATE. The queue hands the turn on as
each transaction commits or rolls back, so in-process writers never meet SQLite's busy handler.

Between processes (`bankdesk up` serves from a web process per core, beside a worker) the one
writer of each process whose turn it is then takes the turn among processes: an exclusive lock
on a file beside the database (`ProcessTurn`), held until its transaction ends. The kernel
frees it if the process dies. A lock file does not queue, so a process that lets go and wants
it back at once would win every time against one that waits between tries; a process that
finds others waiting (they hold a shared lock on a second file while they wait) lets them go
first.

Connections are kept open for the next request (`IdleConnections`): opening one costs a connect,
Django's SQL functions and the PRAGMAs, several milliseconds of CPU, and under ASGI every request
runs in a context of its own, so Django's persistent connections never reach the next request.
A connection is kept only when it is back in autocommit with no transaction open and met no
error; a database in memory keeps its one connection as Django does.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
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


# How often a waiting process tries the turn, and how long one that just had it stands back
# when others wait: well above the first, so a waiter is sure to have tried in between.
_POLL_SECONDS = 0.0002
_POLL_SECONDS_MAX = 0.001
_STAND_BACK_SECONDS = 0.003


class ProcessTurn:
    """The write turn among processes: an exclusive flock on `<database>-writers`, taken by the
    writer of this process whose turn it is on its `WriterQueue`, so one thread per process at
    most ever waits here."""

    def __init__(self, database: str) -> None:
        self._paths = (f"{database}-writers", f"{database}-waiting")
        self._pid = 0
        self._turn = self._waiting = -1
        self._stand_back_until = 0.0

    def _files(self) -> tuple[int, int]:
        if self._pid != os.getpid():  # opened anew in a child: a lock is per open file
            self._turn, self._waiting = (
                os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600) for path in self._paths
            )
            self._pid = os.getpid()
        return self._turn, self._waiting

    def acquire(self, timeout: float) -> bool:
        turn, waiting = self._files()
        deadline = time.monotonic() + timeout
        fcntl.flock(waiting, fcntl.LOCK_SH)  # say we wait: only ever held briefly exclusive
        try:
            pause = _POLL_SECONDS
            while True:
                now = time.monotonic()
                if now >= self._stand_back_until:
                    try:
                        fcntl.flock(turn, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        return True
                    except BlockingIOError:
                        pass
                if now >= deadline:
                    return False
                time.sleep(min(pause, max(deadline - now, 0.0)))
                pause = min(pause * 2, _POLL_SECONDS_MAX)
        finally:
            fcntl.flock(waiting, fcntl.LOCK_UN)

    def release(self) -> None:
        turn, waiting = self._files()
        fcntl.flock(turn, fcntl.LOCK_UN)
        try:  # anyone waiting holds the waiting file shared: then stand back a moment
            fcntl.flock(waiting, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._stand_back_until = time.monotonic() + _STAND_BACK_SECONDS
        else:
            fcntl.flock(waiting, fcntl.LOCK_UN)


class DatabaseTurn:
    """A database file's write turn: first this process's queue, then the turn among processes
    (none for a database in memory, which no other process can open)."""

    def __init__(self, database: str) -> None:
        self.queue = WriterQueue()
        in_memory = database == ":memory:" or "mode=memory" in database
        self.processes = None if in_memory else ProcessTurn(database)

    def acquire(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        if not self.queue.acquire(timeout):
            return False
        if self.processes is None:
            return True
        if self.processes.acquire(max(deadline - time.monotonic(), 0.0)):
            return True
        self.queue.release()
        return False

    def release(self) -> None:
        if self.processes is not None:
            self.processes.release()
        self.queue.release()


# Open connections kept for reuse, per database file; a few more than a process's threads use
# at once. Past this, a connection handed back is closed.
IDLE_PER_DATABASE = 8
IDLE_TOTAL = 16  # across database files (tests open many scratch ones)


class IdleConnections:
    """SQLite connections of this process not in use, ready for the next request or thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._idle: dict[str, list[Any]] = {}

    def take(self, database: str) -> Any | None:
        with self._lock:
            if self._pid != os.getpid():  # a child forked from us: its parent's are not its own
                self._idle, self._pid = {}, os.getpid()
            idle = self._idle.get(database)
            return idle.pop() if idle else None

    def give_back(self, database: str, connection: Any) -> bool:
        """Keep `connection` for reuse; False when enough are kept already (close it)."""
        with self._lock:
            if self._pid != os.getpid():
                return False
            idle = self._idle.setdefault(database, [])
            total = sum(len(kept) for kept in self._idle.values())
            if len(idle) >= IDLE_PER_DATABASE or total >= IDLE_TOTAL:
                return False
            idle.append(connection)
            return True

    def close_all(self) -> None:
        with self._lock:
            kept, self._idle = self._idle, {}
        for connections in kept.values():
            for connection in connections:
                connection.close()


idle_connections = IdleConnections()

_queues: dict[str, DatabaseTurn] = {}
_queues_lock = threading.Lock()


def writer_queue(name: str) -> DatabaseTurn:
    """The write turn of the database file `name` (each test database gets its own)."""
    with _queues_lock:
        turn = _queues.get(name)
        if turn is None:
            turn = _queues[name] = DatabaseTurn(name)
        return turn


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
                    f"{self._wait_seconds():g} s (writers queued ahead)"
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

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        kept = None if self.is_in_memory_db() else idle_connections.take(self._database())
        return kept if kept is not None else super().get_new_connection(conn_params)

    def _database(self) -> str:
        return str(self.settings_dict["NAME"])

    def _reusable(self) -> bool:
        raw = self.connection
        return (
            raw is not None
            and not self.is_in_memory_db()
            and not self.errors_occurred
            and not self.in_atomic_block
            and not raw.in_transaction
            and self.get_autocommit()
        )

    def _close(self) -> Any:
        try:
            if self._reusable() and idle_connections.give_back(self._database(), self.connection):
                return None
            return _django._close(self)
        finally:
            self._give_up_write_turn()
