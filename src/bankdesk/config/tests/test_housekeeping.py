"""What only grows is pruned, rate limits cost one statement, and the cache is shared by
every process."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from bankdesk.config.tasks import housekeeping_run
from bankdesk.conftest import ApiClient
from bankdesk.security.models import RateCounter
from bankdesk.staff.models import ApiToken
from bankdesk.staff.services import api_token_create

pytestmark = pytest.mark.django_db


def _task_result(*, finished_days_ago: float | None) -> DBTaskResult:
    now = timezone.now()
    result = DBTaskResult.objects.create(
        task_path="bankdesk.config.tasks.housekeeping_run",
        args_kwargs={"args": [], "kwargs": {}},
        queue_name="default",
        backend_name="default",
        priority=0,
        status="SUCCESSFUL" if finished_days_ago is not None else "READY",
    )
    if finished_days_ago is not None:
        DBTaskResult.objects.filter(pk=result.pk).update(
            finished_at=now - timedelta(days=finished_days_ago)
        )
    return result


def test_housekeeping_prunes_closed_rate_windows_and_old_task_results() -> None:
    now = int(time.time())
    RateCounter.objects.create(key="api:ip:10.0.0.1", window_start=now - 3 * 86_400, count=9)
    current = RateCounter.objects.create(key="api:ip:10.0.0.1", window_start=now - 30, count=3)
    old = _task_result(finished_days_ago=30)
    recent = _task_result(finished_days_ago=1)
    waiting = _task_result(finished_days_ago=None)

    assert housekeeping_run.call() == 2

    assert list(RateCounter.objects.all()) == [current]
    remaining = set(DBTaskResult.objects.values_list("pk", flat=True))
    assert remaining == {recent.pk, waiting.pk} and old.pk not in remaining


@pytest.mark.django_db(transaction=True)
def test_requests_are_counted_without_a_database_write_each(
    agent: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bankdesk.security import ratelimit
    from bankdesk.security.ratelimit import SharedWindows

    monkeypatch.setattr(SharedWindows, "SYNC_SECONDS", 3600.0)
    api = ApiClient(api_token_create(user=agent).secret)
    api.get("/cases")  # the first request of the process adds its counts to the database
    with CaptureQueriesContext(connection) as queries:
        for _ in range(5):
            assert api.get("/cases").status_code == 200
    assert not [q for q in queries if RateCounter._meta.db_table in q["sql"]]
    # Once the next sync is due, the counts reach the counters every process reads, at once.
    monkeypatch.setattr(ratelimit._shared_windows, "_synced_at", float("-inf"))
    with CaptureQueriesContext(connection) as queries:
        api.get("/cases")
    writes = [q for q in queries if RateCounter._meta.db_table in q["sql"]]
    assert len(writes) == 2  # the address's window and the token's, in one transaction
    # All seven requests by address; by token, the six before this sync (the seventh's token is
    # counted just after it, and waits for the next).
    assert sorted(RateCounter.objects.values_list("key", "count")) == [
        ("api:ip:127.0.0.1", 7),
        (f"api:token:{ApiToken.objects.get().pk}", 6),
    ]


@pytest.mark.skipif(bool(__import__("os").environ.get("REDIS_URL")), reason="Redis is the cache")
def test_the_cache_lives_where_every_process_reads_it() -> None:
    cache.set("wechat:access-token:1:wx1234567890abcdef", "token-every-process-sees", 60)
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM bankdesk_cache")
        assert cursor.fetchone()[0] == 1
