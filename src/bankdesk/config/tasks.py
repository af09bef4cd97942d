"""Housekeeping the worker does every hour: records that only ever grow are pruned."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from bankdesk.security.ratelimit import rate_counters_prune


def task_results_prune(*, older_than: timedelta) -> int:
    """Forget the results of background tasks that finished long ago (the queue of work to do
    is untouched); returns how many were removed."""
    cutoff = timezone.now() - older_than
    deleted, _ = DBTaskResult.objects.finished().filter(finished_at__lt=cutoff).delete()
    return deleted


@task()
def housekeeping_run() -> int:
    """Prune rate-limit counters of closed windows and old task results; returns rows removed."""
    keep = timedelta(days=settings.BANKDESK_TASK_RESULTS_KEEP_DAYS)
    return rate_counters_prune() + task_results_prune(older_than=keep)
