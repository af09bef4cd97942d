"""Background work for channels: delivering the outbox."""

from __future__ import annotations

from django_tasks import task

from bankdesk.intake.outbox import outbox_deliver


@task()
def outbox_deliver_run() -> int:
    """Send every outbound message due; returns how many went out."""
    return outbox_deliver().sent
