"""The model the server answers with: the newest ready version, loaded once per process and
swapped when a newer one is trained, with no restart.

Every few seconds a reply asks the database for the newest ready version (one indexed
query); when it has changed, the new version's files are fetched from the database if this
node has no copy yet (see artifacts), loaded beside the old model and swapped in atomically,
so replies in flight finish on the model they started with. Many web nodes each do the same,
so a training run on any worker reaches all of them.

A version this node cannot serve (its stored files fail their digest, or it predates stored
files and its directory is elsewhere) is logged and skipped: the model in service stays, or
on a process that has none yet, the newest older version that it can serve.
"""

from __future__ import annotations

import logging
import threading
import time

from bankdesk.assistant.artifacts import ArtifactUnusable, local_copy_discard, model_files
from bankdesk.assistant.choices import ModelStatus
from bankdesk.assistant.models import ModelVersion
from bankdesk.assistant.nlu import IntentModel

logger = logging.getLogger("bankdesk.assistant")

CHECK_EVERY_SECONDS = 2.0
# A version that could not be loaded is tried again after this long (a fetch that failed for
# a passing reason, a full disk freed), not on every reply.
RETRY_UNSERVABLE_SECONDS = 300.0
# How many older ready versions a process with no model yet tries before serving none.
FALLBACK_VERSIONS = 5


class _Loaded:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        # (version id, model), replaced whole: a reply never pairs one version's id with
        # another's model.
        self.serving: tuple[int, IntentModel] | None = None
        self.checked_at = float("-inf")
        self.unservable: dict[int, float] = {}  # version id -> when it last failed to load


_loaded = _Loaded()


def _newest_ready_id() -> int | None:
    return (
        ModelVersion.objects.filter(status=ModelStatus.READY)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
    )


def _may_try(version_id: int, now: float) -> bool:
    failed_at = _loaded.unservable.get(version_id)
    return failed_at is None or now - failed_at >= RETRY_UNSERVABLE_SECONDS


def _load(version: ModelVersion, now: float) -> IntentModel | None:
    files = None
    try:
        files = model_files(version)
        return IntentModel.load(files)
    except Exception as exc:  # whatever is wrong with one version, replies go on
        _loaded.unservable[version.pk] = now
        if files is not None and not isinstance(exc, ArtifactUnusable):
            local_copy_discard(files)  # a damaged copy: fetched afresh at the next try
        logger.error(
            "model v%s cannot be served on this node: %s",
            version.pk,
            exc,
            extra={"model_version": version.pk},
        )
        return None


def _swap_to_newest(now: float) -> None:
    """Serve the newest ready version this node can load, newer than the one in service."""
    candidates = ModelVersion.objects.filter(status=ModelStatus.READY).only("id", "directory")
    if _loaded.serving is not None:
        candidates = candidates.filter(id__gt=_loaded.serving[0])
    for version in candidates.order_by("-id")[:FALLBACK_VERSIONS]:
        if not _may_try(version.pk, now):
            continue
        model = _load(version, now)
        if model is not None:
            _loaded.serving = (version.pk, model)
            _loaded.unservable.pop(version.pk, None)
            return


def current_model() -> tuple[int, IntentModel] | None:
    """(version id, model) now in service, or None before any model has been trained."""
    now = time.monotonic()
    serving = _loaded.serving
    if now - _loaded.checked_at >= CHECK_EVERY_SECONDS or serving is None:
        newest = _newest_ready_id()
        _loaded.checked_at = now
        in_service = serving[0] if serving is not None else None
        is_due = newest is not None and newest != in_service and _may_try(newest, now)
        # While one thread fetches and loads a new version, the others go on answering with
        # the model in service; only a process with none yet waits for it.
        if is_due and _loaded.lock.acquire(blocking=serving is None):
            try:
                if _loaded.serving is None or _loaded.serving[0] != newest:
                    _swap_to_newest(now)
            finally:
                _loaded.lock.release()
            serving = _loaded.serving
    return serving


def forget() -> None:
    """Drop the loaded model (tests, and after a version is deleted)."""
    with _loaded.lock:
        _loaded.serving = None
        _loaded.checked_at = float("-inf")
        _loaded.unservable.clear()
