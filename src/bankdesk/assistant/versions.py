"""What admins see of the assistant's training runs: newest first, where each stands, whether
every node can serve it, and why not.

Reads only (kept apart from selectors.py, whose other readers change on their own schedule).
The stored files are never read here: a list of versions costs one query.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Exists, OuterRef

from bankdesk.assistant.choices import ModelStatus
from bankdesk.assistant.models import ModelArtifact, ModelVersion


@dataclass(frozen=True)
class VersionRow:
    id: int
    status: str
    is_interrupted: bool
    is_stored: bool  # its files are in the database: every node can serve it
    examples: int
    labels: int
    metrics: dict[str, float]
    seconds: float
    error: str
    note: str
    worker: str
    heartbeat_at: datetime | None
    retry_of: int | None
    retried_by: int | None
    created_at: datetime
    finished_at: datetime | None


def _note(version: ModelVersion, *, is_stored: bool, retried_by: int | None) -> str:
    if version.status == ModelStatus.READY and not is_stored:
        return (
            "trained before models were stored in the database: only nodes holding its files "
            f"({version.directory or 'no directory'}) can serve it; train a new version to "
            "serve every node"
        )
    if version.status == ModelStatus.TRAINING:
        return f"training on {version.worker or 'a worker'}"
    if version.is_interrupted:
        return f"trained again as v{retried_by}" if retried_by else "not trained again"
    return ""


def model_versions_list(*, limit: int = 50) -> list[VersionRow]:
    """The latest training runs, newest first."""
    versions = (
        ModelVersion.objects.annotate(
            is_stored=Exists(ModelArtifact.objects.filter(version=OuterRef("pk")))
        )
        .select_related("retried_by")
        .only(*(f.name for f in ModelVersion._meta.concrete_fields), "retried_by__id")
        .order_by("-id")[:limit]
    )
    rows = []
    for version in versions:
        retry = getattr(version, "retried_by", None)
        retried_by = retry.pk if retry is not None else None
        is_stored = bool(version.is_stored)
        rows.append(
            VersionRow(
                id=version.pk,
                status=version.status,
                is_interrupted=version.is_interrupted,
                is_stored=is_stored,
                examples=version.examples,
                labels=version.labels,
                metrics=version.metrics,
                seconds=version.seconds,
                error=version.error,
                note=_note(version, is_stored=is_stored, retried_by=retried_by),
                worker=version.worker,
                heartbeat_at=version.heartbeat_at,
                retry_of=version.retry_of_id,
                retried_by=retried_by,
                created_at=version.created_at,
                finished_at=version.finished_at,
            )
        )
    return rows
