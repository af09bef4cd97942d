"""Fixed-window rate limits shared by every process: Redis when configured, else the database."""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction

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


def _increment(key: str, window_start: int) -> int | None:
    """One statement on the hot path: UPDATE … RETURNING (SQLite 3.35+, PostgreSQL)."""
    quote = connection.ops.quote_name
    sql = (
        f"UPDATE {quote(RateCounter._meta.db_table)} SET {quote('count')} = {quote('count')} + 1 "  # noqa: S608  # nosec B608 - names from the model, values bound
        f"WHERE {quote('key')} = %s AND {quote('window_start')} = %s RETURNING {quote('count')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [key, window_start])
        row = cursor.fetchone()
    return None if row is None else int(row[0])


def _count_in_database(key: str, window_start: int) -> int:
    count = _increment(key, window_start)
    if count is not None:
        return count
    try:
        with transaction.atomic():
            RateCounter.objects.create(key=key, window_start=window_start, count=1)
        return 1
    except IntegrityError:  # another request opened this window first
        return _increment(key, window_start) or 1


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
        count = _count_in_database(key, window_start)
    if count > limit.count:
        raise RateLimited(retry_after=max(1, int(window_start + limit.seconds - now) + 1))


def rate_counters_prune(*, older_than_seconds: int = 86_400) -> int:
    cutoff = int(time.time()) - older_than_seconds
    deleted, _ = RateCounter.objects.filter(window_start__lt=cutoff).delete()
    return deleted
