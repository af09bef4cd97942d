"""The model the server answers with: the newest ready version, loaded once per process and
swapped when a newer one is trained, with no restart.

Every few seconds a reply asks the database for the newest ready version (one indexed
query); when it has changed, the new artifact is loaded beside the old one and swapped in
atomically, so replies in flight finish on the model they started with. Many web nodes each
do the same, so a training run on any worker reaches all of them.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from django.conf import settings

from bankdesk.assistant.choices import ModelStatus
from bankdesk.assistant.models import ModelVersion
from bankdesk.assistant.nlu import IntentModel

CHECK_EVERY_SECONDS = 2.0


def models_root() -> Path:
    return Path(settings.BANKDESK_HOME) / "assistant" / "models"


class _Loaded:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.version_id: int | None = None
        self.model: IntentModel | None = None
        self.checked_at = float("-inf")


_loaded = _Loaded()


def _newest_ready() -> ModelVersion | None:
    return (
        ModelVersion.objects.filter(status=ModelStatus.READY)
        .only("id", "directory")
        .order_by("-id")
        .first()
    )


def current_model() -> tuple[int, IntentModel] | None:
    """(version id, model) now in service, or None before any model has been trained."""
    now = time.monotonic()
    if now - _loaded.checked_at >= CHECK_EVERY_SECONDS or _loaded.model is None:
        newest = _newest_ready()
        _loaded.checked_at = now
        if newest is not None and newest.pk != _loaded.version_id:
            with _loaded.lock:
                if newest.pk != _loaded.version_id:
                    model = IntentModel.load(models_root() / newest.directory)
                    _loaded.model, _loaded.version_id = model, newest.pk
    if _loaded.model is None or _loaded.version_id is None:
        return None
    return _loaded.version_id, _loaded.model


def forget() -> None:
    """Drop the loaded model (tests, and after a version is deleted)."""
    with _loaded.lock:
        _loaded.model, _loaded.version_id = None, None
        _loaded.checked_at = float("-inf")
