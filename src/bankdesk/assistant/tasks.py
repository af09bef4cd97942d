"""Training in the background: the admin's "train now" runs on a worker, not in a request."""

from __future__ import annotations

from django_tasks import task

from bankdesk.assistant.training import model_train
from bankdesk.staff.models import User


@task()
def assistant_train_run(requested_by_id: int | None = None) -> int:
    """Train a new version on the database's examples; returns its id."""
    actor = User.objects.filter(pk=requested_by_id).first() if requested_by_id else None
    return model_train(actor=actor).pk
