"""A training run whose worker dies is marked failed as interrupted (audited), trained again
once, and never left "training" for ever; a run still alive is left alone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from bankdesk.assistant.choices import ExampleSource, ModelStatus
from bankdesk.assistant.models import IntentExample, ModelArtifact, ModelVersion
from bankdesk.assistant.seed import assistant_seed
from bankdesk.assistant.tasks import assistant_train_run
from bankdesk.assistant.tests.conftest import EXAMPLES
from bankdesk.assistant.training import examples_import, model_train
from bankdesk.security.audit import audit_verify
from bankdesk.security.models import AuditEntry

INTERRUPTED = "interrupted: the worker stopped during training"
ROWS = [(text, label) for label, texts in EXAMPLES.items() for text in texts]


def _running(*, silent_for: timedelta, **fields: object) -> ModelVersion:
    """A run as a worker leaves it: training, last heard of `silent_for` ago."""
    now = timezone.now()
    return ModelVersion.objects.create(
        status=ModelStatus.TRAINING,
        examples=len(ROWS),
        labels=6,
        worker="node-7:4242",
        created_at=now - silent_for - timedelta(minutes=1),
        heartbeat_at=now - silent_for,
        **fields,
    )


def _queued_training() -> list[dict[str, object]]:
    path = f"{assistant_train_run.func.__module__}.{assistant_train_run.func.__qualname__}"
    return [
        result.args_kwargs["kwargs"]
        for result in DBTaskResult.objects.ready().filter(task_path=path)
    ]


def test_a_silent_run_is_marked_interrupted_audited_and_trained_again_once(
    db: None, django_capture_on_commit_callbacks: Callable[..., object]
) -> None:
    from bankdesk.assistant.training_runs import model_training_recover

    examples_import(ROWS, source=ExampleSource.ADMIN, actor=None)
    alive = _running(silent_for=timedelta(seconds=20))
    dead = _running(silent_for=timedelta(minutes=11))

    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        assert model_training_recover() == [dead.pk]

    dead.refresh_from_db()
    alive.refresh_from_db()
    assert dead.status == ModelStatus.FAILED and dead.error.startswith(INTERRUPTED)
    assert "node-7:4242" in dead.error and dead.is_interrupted
    assert alive.status == ModelStatus.TRAINING
    entry = AuditEntry.objects.get(action="assistant.model_interrupted")
    assert entry.object_id == str(dead.pk) and "training again once" in entry.reason
    assert _queued_training() == [{"requested_by_id": None, "retry_of_id": dead.pk}]

    retry = ModelVersion.objects.get(pk=assistant_train_run.call(retry_of_id=dead.pk))  # type: ignore[attr-defined]

    assert retry.status == ModelStatus.READY and retry.retry_of_id == dead.pk
    assert audit_verify().is_intact


@pytest.mark.parametrize("why", ["already a retry", "a newer run started"])
def test_an_interrupted_run_is_not_trained_again_twice_or_over_a_newer_one(
    db: None, django_capture_on_commit_callbacks: Callable[..., object], why: str
) -> None:
    from bankdesk.assistant.training_runs import model_training_recover

    first = ModelVersion.objects.create(status=ModelStatus.FAILED, error=INTERRUPTED)
    if why == "already a retry":
        dead = _running(silent_for=timedelta(hours=2), retry_of=first)
    else:
        dead = _running(silent_for=timedelta(hours=2))
        ModelVersion.objects.create(status=ModelStatus.READY)

    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        assert model_training_recover() == [dead.pk]

    dead.refresh_from_db()
    assert dead.status == ModelStatus.FAILED and dead.error.startswith(INTERRUPTED)
    entry = AuditEntry.objects.get(action="assistant.model_interrupted")
    assert "not trained again" in entry.reason
    assert _queued_training() == []


def test_a_run_found_silent_while_it_still_works_stops_and_is_not_served(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bankdesk.assistant import training_runs

    examples_import(ROWS, source=ExampleSource.ADMIN, actor=None)
    monkeypatch.setattr(training_runs, "HEARTBEAT_EVERY_SECONDS", 0.0)

    def another_worker_gives_up(stage: str, done: int, total: int) -> None:
        version = ModelVersion.objects.get(status=ModelStatus.TRAINING)
        training_runs.training_interrupted_mark(version_id=version.pk, reason=INTERRUPTED)

    with pytest.raises(training_runs.TrainingAbandoned):
        model_train(actor=None, holdout=False, progress=another_worker_gives_up)

    version = ModelVersion.objects.get()
    assert version.status == ModelStatus.FAILED and version.error == INTERRUPTED
    assert not ModelArtifact.objects.exists()


@pytest.mark.parametrize(
    ("stop", "error", "outcome"),
    [
        # What the task worker does on a second SIGTERM: train it again when a worker is back.
        (SystemExit(1), "interrupted: the worker was stopped during training", "training again"),
        # Ctrl-C on `bankdesk assistant train`: the operator meant it.
        (KeyboardInterrupt(), "interrupted: training was cancelled (Ctrl-C)", "was cancelled"),
    ],
)
def test_a_run_told_to_stop_is_marked_interrupted_and_trained_again_unless_cancelled(
    db: None, stop: BaseException, error: str, outcome: str
) -> None:
    examples_import(ROWS, source=ExampleSource.ADMIN, actor=None)

    def stopping(stage: str, done: int, total: int) -> None:
        raise stop

    with pytest.raises(type(stop)):
        model_train(actor=None, holdout=False, progress=stopping)

    version = ModelVersion.objects.get()
    assert version.status == ModelStatus.FAILED and version.error == error
    assert outcome in AuditEntry.objects.get(action="assistant.model_interrupted").reason


def test_the_process_identity_tells_a_live_training_worker_from_a_dead_one() -> None:
    from bankdesk.assistant.liveness import process_identity, process_is_gone

    if not process_identity():
        pytest.skip("this system does not say when a process started")
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from bankdesk.assistant.liveness import process_identity\n"
            "print(process_identity(), flush=True)\n"
            "time.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        identity = child.stdout.readline().strip()
        assert identity and not process_is_gone(identity)
    finally:
        child.kill()
        child.wait(timeout=30)
    assert process_is_gone(identity)
    assert not process_is_gone(process_identity())
    assert not process_is_gone("")
    assert not process_is_gone("another-machine/pid:[1]/1/1")


def test_the_versions_command_and_api_show_an_interrupted_run(
    db: None, admin_user: object, api_for: object
) -> None:
    from bankdesk.assistant.training_runs import training_interrupted_mark

    dead = _running(silent_for=timedelta(hours=1))
    ModelVersion.objects.create(status=ModelStatus.READY)  # nothing to train again over
    training_interrupted_mark(version_id=dead.pk, reason=f"{INTERRUPTED} (test)")

    out = StringIO()
    call_command("assistant", "versions", stdout=out)
    line = next(line for line in out.getvalue().splitlines() if line.startswith(f"v{dead.pk} "))
    assert "interrupted" in line and INTERRUPTED in line and "not trained again" in line
    listed = {v["id"]: v for v in api_for(admin_user).get("/assistant/models").json_body}  # type: ignore[operator]
    assert listed[dead.pk]["status"] == "failed" and listed[dead.pk]["interrupted"] is True
    assert listed[dead.pk]["worker"] == "node-7:4242"


# -- a real worker, killed ------------------------------------------------------------------


def _worker_settings(tmp_path: Path) -> str:
    """A settings module for worker processes that points them at this test's database."""
    (tmp_path / "training_fault_settings.py").write_text(
        "from bankdesk.config.settings import *  # noqa: F403\n"
        f'DATABASES["default"]["NAME"] = {str(connection.settings_dict["NAME"])!r}  # noqa: F405\n',
        encoding="utf-8",
    )
    return "training_fault_settings"


def _start_worker(tmp_path: Path, module: str, log_name: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": module,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path]),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "bankdesk.config.cli", "worker", "--interval", "0.2"],
        env=env,
        stdout=(tmp_path / log_name).open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _wait(condition: Callable[[], bool], timeout: float, what: str) -> None:
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < timeout, f"timed out waiting for {what}"
        time.sleep(0.05)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_during_training_leaves_no_run_training_for_ever(
    tmp_path: Path,
) -> None:
    # The shipped examples (about 3,000) keep the first run busy for far longer than it takes
    # to kill it; the admin's own few are what the run taken up again trains on.
    assistant_seed()
    examples_import(ROWS, source=ExampleSource.ADMIN, actor=None)
    module = _worker_settings(tmp_path)
    assistant_train_run.enqueue()
    workers = [_start_worker(tmp_path, module, "worker-1.log")]
    try:
        _wait(
            lambda: ModelVersion.objects.filter(status=ModelStatus.TRAINING).exists(),
            180,
            "the first worker to start training",
        )
        os.killpg(workers[0].pid, signal.SIGKILL)
        workers[0].wait(timeout=30)
        killed = ModelVersion.objects.get()
        assert killed.status == ModelStatus.TRAINING, "the run finished before the kill"
        IntentExample.objects.filter(source=ExampleSource.SEED).delete()

        workers.append(_start_worker(tmp_path, module, "worker-2.log"))
        _wait(
            lambda: ModelVersion.objects.filter(status=ModelStatus.READY).exists(),
            300,
            "a worker started again to finish training",
        )
    finally:
        for worker in workers:
            _stop(worker)

    killed.refresh_from_db()
    assert killed.status == ModelStatus.FAILED, (tmp_path / "worker-2.log").read_text()[-3000:]
    assert killed.error.startswith(INTERRUPTED)
    ready = ModelVersion.objects.get(status=ModelStatus.READY)
    assert ready.pk > killed.pk and ready.examples == IntentExample.objects.count()
    assert ModelVersion.objects.count() == 2
    assert audit_verify().is_intact
