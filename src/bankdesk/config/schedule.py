"""Periodic tasks: each worker enqueues what is due; the queue keeps it to one copy at a time."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from django.db import close_old_connections
from django_tasks.base import Task
from django_tasks_db.models import DBTaskResult

from bankdesk.analytics.tasks import analytics_refresh_run
from bankdesk.assistant.tasks import assistant_training_recover_run
from bankdesk.config.tasks import housekeeping_run
from bankdesk.feedback.tasks import survey_reminders_run
from bankdesk.intake.tasks import mailbox_poll_run, outbox_deliver_run, wechat_nonces_prune_run
from bankdesk.personalization.tasks import event_reminders_run, personalization_refresh_run
from bankdesk.security.tasks import audit_chain_run
from bankdesk.sla.tasks import calendar_horizon_check_run, sla_firings_run, sla_sweep_run
from bankdesk.tickets.tasks import case_activity_prune_run, case_autoclose_sweep

logger = logging.getLogger("bankdesk.schedule")


@dataclass(frozen=True)
class Periodic:
    task: Task[[], int]
    every_seconds: int


SCHEDULE = [
    Periodic(task=case_autoclose_sweep, every_seconds=15 * 60),
    Periodic(task=case_activity_prune_run, every_seconds=60 * 60),
    Periodic(task=sla_sweep_run, every_seconds=60),
    # Retries and messages left by a worker that stopped; new replies are sent on commit.
    Periodic(task=outbox_deliver_run, every_seconds=10),
    Periodic(task=mailbox_poll_run, every_seconds=60),
    Periodic(task=wechat_nonces_prune_run, every_seconds=10 * 60),
    # Escalations left over by a worker that stopped mid-run are picked up again.
    Periodic(task=sla_firings_run, every_seconds=5 * 60),
    # Rate-limit counters and finished task results would otherwise grow for ever.
    Periodic(task=housekeeping_run, every_seconds=60 * 60),
    # A calendar whose published holidays are running out is logged daily (and at each start).
    Periodic(task=calendar_horizon_check_run, every_seconds=24 * 60 * 60),
    # Assistant training runs whose worker died (on any node) are marked interrupted.
    Periodic(task=assistant_training_recover_run, every_seconds=5 * 60),
    # Audit entries whose commit found the chain's head busy get linked, and the head is sealed
    # into a checkpoint file: at most this long of the chain's tail is ever unsealed.
    Periodic(task=audit_chain_run, every_seconds=5 * 60),
    # One reminder to customers who have not answered their survey (never in quiet hours).
    Periodic(task=survey_reminders_run, every_seconds=15 * 60),
    # New case events folded into the indicators' facts and rollups (the dashboard reads these).
    Periodic(task=analytics_refresh_run, every_seconds=5 * 60),
    # Segments, clusters, service plans and next-best-actions, from the day's holdings and
    # contacts; suggestions left unanswered expire as ignored.
    Periodic(task=personalization_refresh_run, every_seconds=60 * 60),
    # Customers booked on a session starting within a day are reminded once (quiet hours kept).
    Periodic(task=event_reminders_run, every_seconds=15 * 60),
]


def _task_path(task: Task[[], int]) -> str:
    return f"{task.func.__module__}.{task.func.__qualname__}"


def enqueue_due(schedule: list[Periodic]) -> int:
    """Enqueue every periodic task that has no copy waiting yet. Returns how many were queued."""
    queued = 0
    for item in schedule:
        waiting = DBTaskResult.objects.ready().filter(task_path=_task_path(item.task)).exists()
        if not waiting:
            item.task.enqueue()
            queued += 1
    return queued


def run_schedule(stop: threading.Event, schedule: list[Periodic] | None = None) -> None:
    schedule = SCHEDULE if schedule is None else schedule
    next_run = {id(item): 0.0 for item in schedule}
    while not stop.is_set():
        now = time.monotonic()
        due = [item for item in schedule if next_run[id(item)] <= now]
        if due:
            try:
                enqueue_due(due)
            except Exception:  # a scheduling hiccup must not kill the worker
                logger.exception("could not enqueue periodic tasks")
            finally:
                close_old_connections()
            for item in due:
                next_run[id(item)] = now + item.every_seconds
        stop.wait(5)
