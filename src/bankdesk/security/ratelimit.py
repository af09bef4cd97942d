"""Fixed-window rate limits shared by every process: Redis when configured, else the database
(counted in memory and added to the database's counters once a second)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, transaction

from bankdesk.lib.env import SettingError
from bankdesk.lib.errors import RateLimited
from bankdesk.security.models import RateCounter


@dataclass(frozen=True)
class Limit:
    count: int
    seconds: int

    @classmethod
    def parse(cls, raw: str, name: str = "rate limit") -> Limit:
        try:
            count_raw, seconds_raw = raw.split("/")
            limit = cls(int(count_raw), int(seconds_raw))
        except ValueError as exc:
            raise SettingError(f"{name}={raw!r} must look like 600/60 (requests/seconds)") from exc
        if limit.count < 1 or limit.seconds < 1:
            raise SettingError(f"{name}={raw!r} must be positive")
        return limit


@lru_cache(maxsize=1)
def _redis(url: str) -> Any:
    import redis

    return redis.Redis.from_url(url, socket_timeout=1)


def _add_in_database(key: str, window_start: int, delta: int) -> int:
    """Add `delta` to a window's counter, creating it, and read the total back: one statement
    (INSERT … ON CONFLICT … RETURNING, SQLite 3.35+ and PostgreSQL)."""
    quote = connection.ops.quote_name
    table = quote(RateCounter._meta.db_table)
    sql = (
        f"INSERT INTO {table} ({quote('key')}, {quote('window_start')}, {quote('count')}) "  # noqa: S608  # nosec B608 - names from the model, values bound
        f"VALUES (%s, %s, %s) ON CONFLICT ({quote('key')}, {quote('window_start')}) "
        f"DO UPDATE SET {quote('count')} = {table}.{quote('count')} + %s "
        f"RETURNING {quote('count')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [key, window_start, delta, delta])
        row = cursor.fetchone()
    return int(row[0])


class SharedWindows:
    """Fixed-window counts shared through the database without a write per request.

    Each process counts in memory and, at most once every SYNC_SECONDS, adds what it counted
    to the shared counters in one short transaction and reads the totals back. A process
    judges a request by the last totals it read plus its own counts since, so another
    process's requests reach it within a second: close enough for abuse limits, and the
    database sees one write a second per process instead of two per request.
    """

    SYNC_SECONDS = 1.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._unsent: dict[tuple[str, int], int] = {}
        self._totals: dict[tuple[str, int], int] = {}
        self._synced_at = float("-inf")

    def hit(self, key: str, window_start: int) -> int:
        """Count one request; the window's total as far as this process knows."""
        window = (key, window_start)
        with self._lock:
            self._unsent[window] = self._unsent.get(window, 0) + 1
            if time.monotonic() - self._synced_at >= self.SYNC_SECONDS:
                self._sync(window_start)
            return self._totals.get(window, 0) + self._unsent.get(window, 0)

    def _sync(self, current_window: int) -> None:
        if connection.in_atomic_block:
            return  # inside someone's transaction: counts would roll back with it; next time
        self._synced_at = time.monotonic()
        unsent, self._unsent = self._unsent, {}
        try:
            with transaction.atomic():
                for (key, window_start), delta in sorted(unsent.items()):
                    self._totals[(key, window_start)] = _add_in_database(key, window_start, delta)
        except DatabaseError:
            for window, delta in unsent.items():  # kept for the next sync; the error is seen
                self._unsent[window] = self._unsent.get(window, 0) + delta
            raise
        # Windows that have closed are the database's alone now.
        self._totals = {w: n for w, n in self._totals.items() if w[1] >= current_window - 3600}

    def forget(self) -> None:
        """Drop what this process knows (tests that change the limits)."""
        with self._lock:
            self._unsent.clear()
            self._totals.clear()
            self._synced_at = float("-inf")


_shared_windows = SharedWindows()


def rate_windows_forget() -> None:
    """Forget this process's counts (tests, where every test's counters roll back)."""
    _shared_windows.forget()


def _count_in_redis(key: str, window_start: int, seconds: int) -> int:
    client = _redis(settings.REDIS_URL)
    redis_key = f"bankdesk:rate:{key}:{window_start}"
    pipe = client.pipeline()
    pipe.incr(redis_key)
    pipe.expire(redis_key, seconds + 5)
    count, _ = pipe.execute()
    return int(count)


def rate_limit_hit(key: str, limit: Limit, *, now: float | None = None) -> None:
    """Count one request for `key`; raise RateLimited (429, Retry-After) past the limit."""
    now = time.time() if now is None else now
    window_start = int(now // limit.seconds * limit.seconds)
    key = key[:180]
    if settings.REDIS_URL:
        count = _count_in_redis(key, window_start, limit.seconds)
    else:
        count = _shared_windows.hit(key, window_start)
    if count > limit.count:
        raise RateLimited(retry_after=max(1, int(window_start + limit.seconds - now) + 1))


def rate_counters_prune(*, older_than_seconds: int = 86_400) -> int:
    """Forget the counters of windows long closed (the worker runs this every hour)."""
    cutoff = int(time.time()) - older_than_seconds
    deleted, _ = RateCounter.objects.filter(window_start__lt=cutoff).delete()
    return deleted
