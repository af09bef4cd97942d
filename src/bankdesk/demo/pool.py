"""Several loading connections at once, so PostgreSQL works a big demo load on every core.

One PostgreSQL connection is served by one backend process, and a COPY with the foreign-key
checks behind it keeps that process at 100 % of one core while the others idle. Each worker
thread here has its own Django connection (they are per thread) and loads whole batches in its
own transactions. The batches are still generated in order by one thread, so the data is the
same as a sequential load; only the order in which batches commit differs.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Generic, TypeVar

from django.db import connection

T = TypeVar("T")


class _Done:
    """Tells a worker that no more batches will come."""


class LoadPool(Generic[T]):
    """Hands batches to `workers` threads that each call `load(batch)` on their own connection."""

    def __init__(self, load: Callable[[T], None], *, workers: int) -> None:
        self._load = load
        self._queue: queue.Queue[T | _Done] = queue.Queue(maxsize=workers)
        self._error: BaseException | None = None
        self._threads = [
            threading.Thread(target=self._run, name=f"demo-loader-{n}", daemon=True)
            for n in range(workers)
        ]

    def __enter__(self) -> LoadPool[T]:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for _ in self._threads:
            self._queue.put(_Done())
        for thread in self._threads:
            thread.join()
        if exc is None and self._error is not None:
            raise self._error

    def submit(self, batch: T) -> None:
        """Queue a batch (waits while every worker is busy); re-raises a worker's failure."""
        if self._error is not None:
            raise self._error
        self._queue.put(batch)

    def _run(self) -> None:
        try:
            while not isinstance(item := self._queue.get(), _Done):
                if self._error is not None:
                    continue  # keep draining so the producer never blocks on a full queue
                try:
                    self._load(item)
                except BaseException as exc:  # handed to the producing thread
                    self._error = exc
        finally:
            connection.close()  # this thread's own connection
