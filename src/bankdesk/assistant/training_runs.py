"""Training runs that stop without finishing: the heartbeat, and marking them interrupted.

A run beats its version's heartbeat from its progress reports (at most every 10 s; training
reports after every step, and the longest step on BANKING77 took 43-80 s on a busy two-core
machine). A worker that starts, and every worker every few minutes, marks failed — audited, with
the reason "interrupted" — each run whose heartbeat is older than
BANKDESK_ASSISTANT_TRAINING_STALE_SECONDS or whose process is provably gone from this machine.

An interrupted run is trained again once, automatically, if nothing newer has been started
since: a worker restarted during a deploy should not silently drop an admin's request. A run
that was itself such a retry is not: whatever killed the worker twice (running out of memory,
say) would kill it again, and a loop of crashes is worse than a clear failure to look into.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from bankdesk.assistant.artifacts import STAGING_PREFIX, models_root
from bankdesk.assistant.choices import ModelStatus
from bankdesk.assistant.liveness import process_is_gone
from bankdesk.assistant.models import ModelVersion
from bankdesk.security.audit import audit_record

logger = logging.getLogger("bankdesk.assistant")

Progress = Callable[[str, int, int], None]
HEARTBEAT_EVERY_SECONDS = 10.0
INTERRUPTED = "interrupted: the worker stopped during training"
# Half-written directories (a training's staging, a fetch) older than this were left by a
# process that died; nothing alive takes this long to write one.
LEFTOVERS_AFTER = timedelta(days=1)


class TrainingAbandoned(Exception):
    """The run's version was marked interrupted while the run still worked (its heartbeat
    had gone stale): the run stops, and its result is not served."""


class TrainingHeartbeat:
    """Passes progress on, and beats the version's heartbeat at most every
    HEARTBEAT_EVERY_SECONDS."""

    def __init__(self, version_id: int, progress: Progress | None) -> None:
        self.version_id = version_id
        self.progress = progress
        self.beaten_at = time.monotonic()

    def __call__(self, stage: str, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(stage, done, total)
        if time.monotonic() - self.beaten_at >= HEARTBEAT_EVERY_SECONDS:
            self.beat()

    def beat(self) -> None:
        self.beaten_at = time.monotonic()
        still_training = ModelVersion.objects.filter(
            pk=self.version_id, status=ModelStatus.TRAINING
        ).update(heartbeat_at=timezone.now())
        if not still_training:
            raise TrainingAbandoned(
                f"model v{self.version_id} was marked interrupted while it was still training"
            )


def training_interrupted_mark(
    *,
    version_id: int,
    reason: str,
    silent_since: datetime | None = None,
    is_cancelled: bool = False,
) -> bool:
    """Mark a run that will never finish as failed with `reason`, audited, and train it again
    once if that is due (never when someone `is_cancelled` it). With `silent_since`, only if
    the run has given no sign of life since then (it may have beaten its heartbeat after it
    was found silent). False when the run was not marked: it had finished, was marked
    already, or has just shown it is alive."""
    with transaction.atomic():
        version = (
            ModelVersion.objects.select_for_update()
            .filter(pk=version_id, status=ModelStatus.TRAINING)
            .first()
        )
        if version is None:
            return False
        last_sign = version.heartbeat_at or version.created_at
        if silent_since is not None and last_sign >= silent_since:
            return False
        now = timezone.now()
        version.status = ModelStatus.FAILED
        version.error = reason[:2000]
        version.finished_at = now
        version.seconds = round(max((last_sign - version.created_at).total_seconds(), 0.0), 1)
        version.save(update_fields=["status", "error", "finished_at", "seconds"])
        retry = (
            not is_cancelled
            and version.retry_of_id is None
            and not ModelVersion.objects.filter(pk__gt=version.pk).exists()
        )
        if retry:
            outcome = "training again once"
        elif is_cancelled:
            outcome = "not trained again: it was cancelled"
        elif version.retry_of_id is not None:
            outcome = f"not trained again: it was already the retry of v{version.retry_of_id}"
        else:
            outcome = "not trained again: a newer run was started since"
        audit_record(
            actor=None,
            action="assistant.model_interrupted",
            target=version,
            reason=f"{reason}; {outcome}",
        )
        if retry:
            transaction.on_commit(lambda: _train_again(version))
    logger.warning("model v%s: %s; %s", version_id, reason, outcome)
    return True


def _train_again(version: ModelVersion) -> None:
    # Imported here: the task module imports training, which imports this module.
    from bankdesk.assistant.tasks import assistant_train_run

    assistant_train_run.enqueue(requested_by_id=version.requested_by_id, retry_of_id=version.pk)


def model_training_recover() -> list[int]:
    """Mark every run whose worker is gone as interrupted; returns their version ids."""
    stale_before = timezone.now() - timedelta(
        seconds=settings.BANKDESK_ASSISTANT_TRAINING_STALE_SECONDS
    )
    running = ModelVersion.objects.filter(status=ModelStatus.TRAINING).only(
        "id", "created_at", "heartbeat_at", "worker", "worker_identity"
    )
    marked = []
    for version in running.order_by("id"):
        last_sign = version.heartbeat_at or version.created_at
        worker = version.worker or "its worker"
        if last_sign < stale_before:
            reason = (
                f"{INTERRUPTED} (no sign of life from {worker} since "
                f"{last_sign:%Y-%m-%d %H:%M:%S} UTC)"
            )
            silent_since: datetime | None = stale_before
        elif process_is_gone(version.worker_identity):
            reason, silent_since = f"{INTERRUPTED} ({worker} is no longer running)", None
        else:
            continue
        if training_interrupted_mark(
            version_id=version.pk, reason=reason, silent_since=silent_since
        ):
            marked.append(version.pk)
    _leftovers_remove(models_root())
    return marked


def _leftovers_remove(root: Path) -> None:
    """Remove half-written directories a dead process left under this node's model copies."""
    if not root.is_dir():
        return
    cutoff = time.time() - LEFTOVERS_AFTER.total_seconds()
    for path in root.iterdir():
        try:
            if path.name.startswith(STAGING_PREFIX) and os.lstat(path).st_mtime < cutoff:
                shutil.rmtree(path, ignore_errors=True)
        except OSError:  # removed meanwhile by another process of this node
            continue
