"""Records for complaint cases that have none: cases loaded in bulk (the demo bank's history)
or opened before bankdesk kept complaint records. Each gets the record its case's history
allows: received when the case was opened; closed when the case was resolved or closed."""

from __future__ import annotations

from typing import Any

BATCH = 2000


def complaint_records_backfill(
    complaint_model: Any, case_model: Any, using: str = "default"
) -> int:
    """Add the missing records in database `using` (models passed in, so a migration can use
    its own); returns how many were added."""
    missing = (
        case_model.objects.using(using)
        .filter(is_complaint=True, complaint__isnull=True)
        .order_by("id")
        .values_list("id", "channel", "created_at", "status", "resolved_at", "closed_at")
    )
    added = 0
    batch: list[Any] = []
    for case_id, channel, created_at, status, resolved_at, closed_at in missing.iterator():
        finished = status in {"resolved", "closed"}
        batch.append(
            complaint_model(
                case_id=case_id,
                channel=channel,
                opened_on="created",
                received_at=created_at,
                status="closed" if finished else "received",
                closed_at=(resolved_at or closed_at) if finished else None,
                updated_at=created_at,
            )
        )
        if len(batch) >= BATCH:
            complaint_model.objects.using(using).bulk_create(batch)
            added, batch = added + len(batch), []
    if batch:
        complaint_model.objects.using(using).bulk_create(batch)
        added += len(batch)
    return added
