"""Training in the background: the admin's "train now" runs on a worker, not in a request; and
the periodic check that no run is left "training" by a worker that died."""

from __future__ import annotations

from django_tasks import task

from bankdesk.assistant.models import ModelVersion
from bankdesk.assistant.training import model_train
from bankdesk.assistant.training_runs import model_training_recover
from bankdesk.staff.models import User


@task()
def assistant_train_run(requested_by_id: int | None = None, retry_of_id: int | None = None) -> int:
    """Train a new version on the database's examples; returns its id. `retry_of_id` names
    the interrupted run this one trains again."""
    actor = User.objects.filter(pk=requested_by_id).first() if requested_by_id else None
    retry_of = ModelVersion.objects.filter(pk=retry_of_id).first() if retry_of_id else None
    return model_train(actor=actor, retry_of=retry_of).pk


@task()
def assistant_training_recover_run() -> int:
    """Mark runs whose worker died as interrupted (see training_runs); returns how many."""
    return len(model_training_recover())
