"""A trained model is stored in the database, so every node serves it: a node that never saw
the training fetches it, checks its digest and unpacks it safely; a backup carries it."""

from __future__ import annotations

import hashlib
import importlib
import io
import json
import logging
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from django.db import connection

from bankdesk.assistant import artifacts, engine
from bankdesk.assistant import migrations as assistant_migrations
from bankdesk.assistant.artifacts import (
    ArtifactUnusable,
    artifact_pack,
    artifact_unpack,
    models_root,
)
from bankdesk.assistant.choices import ModelStatus
from bankdesk.assistant.models import ModelArtifact, ModelVersion
from bankdesk.assistant.services import assistant_reply
from bankdesk.assistant.tests.conftest import EXAMPLES, install_model
from bankdesk.assistant.training import examples_import, model_train
from bankdesk.conftest import ApiClient
from bankdesk.security.backup_tables import backup_models, table_rows_dump, table_rows_load
from bankdesk.staff.models import User

NODE_SCRIPT = """
import json

import django

django.setup()

from bankdesk.assistant.services import assistant_reply

answer = assistant_reply(text="how do I change my PIN", actor=None)
print(json.dumps({"model_version": answer.model_version, "intent": answer.intent}))
"""


def _second_node(tmp_path: Path) -> dict[str, str]:
    """The environment of another node: its own BANKDESK_HOME (with this installation's keys,
    as an operator gives every node), on this test's database."""
    home = tmp_path / "node-b"
    home.mkdir()
    for name in ("data_keys.json", "secret_key", "audit_key"):
        if (Path(settings.BANKDESK_HOME) / name).exists():
            shutil.copy2(Path(settings.BANKDESK_HOME) / name, home / name)
    (tmp_path / "node_b_settings.py").write_text(
        "from bankdesk.config.settings import *  # noqa: F403\n"
        f'DATABASES["default"]["NAME"] = {str(connection.settings_dict["NAME"])!r}  # noqa: F405\n',
        encoding="utf-8",
    )
    return {
        **os.environ,
        "BANKDESK_HOME": str(home),
        "DJANGO_SETTINGS_MODULE": "node_b_settings",
        "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path]),
    }


@pytest.mark.django_db(transaction=True)
def test_a_model_trained_on_one_node_serves_on_a_node_that_never_saw_its_files(
    tmp_path: Path,
) -> None:
    engine.forget()
    rows = [(text, label) for label, texts in EXAMPLES.items() for text in texts]
    examples_import(rows, source="admin", actor=None)
    version = model_train(actor=None, holdout=False)
    env = _second_node(tmp_path)

    node_b = subprocess.run(
        [sys.executable, "-c", NODE_SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert node_b.returncode == 0, node_b.stderr[-3000:]
    answer = json.loads(node_b.stdout.strip().splitlines()[-1])
    assert answer == {"model_version": version.pk, "intent": "change_pin"}
    copies = list((Path(env["BANKDESK_HOME"]) / "assistant" / "models").iterdir())
    assert [path.name for path in copies] == [version.directory]
    assert sorted(path.name for path in copies[0].iterdir()) == [
        "metrics.json",
        "model.json",
        "model.npz",
    ]
    engine.forget()


def test_a_training_run_never_touches_files_another_run_is_writing(db: None) -> None:
    engine.forget()
    examples_import(
        [(text, label) for label, texts in EXAMPLES.items() for text in texts],
        source="admin",
        actor=None,
    )
    others: list[Path] = []

    def another_run_writes_under_the_same_number(stage: str, done: int, total: int) -> None:
        # Another database's run (a staging copy, a restore) on this BANKDESK_HOME got the same
        # version number and is writing its files now.
        if not others:
            number = ModelVersion.objects.get(status=ModelStatus.TRAINING).pk
            others.append(models_root() / f"v{number:04d}")
            others[0].mkdir(parents=True, exist_ok=True)
            (others[0] / "model.npz").write_bytes(b"the other run's weights")

    version = model_train(
        actor=None, holdout=False, progress=another_run_writes_under_the_same_number
    )

    assert (others[0] / "model.npz").read_bytes() == b"the other run's weights"
    assert version.directory != others[0].name
    assert (models_root() / version.directory / "model.npz").is_file()
    shutil.rmtree(others[0])
    engine.forget()


def _tamper(version: ModelVersion, other_model: Path) -> None:
    """Replace the stored files with another, well-formed model, keeping the recorded digest:
    what someone with write access to the table, or a bad disk, might leave."""
    ModelArtifact.objects.filter(version=version).update(content=artifact_pack(other_model).content)


def test_a_tampered_model_is_refused_and_the_previous_one_keeps_serving(
    assistant: ModelVersion,
    trained_directory: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(engine, "CHECK_EVERY_SECONDS", 0.0)
    assert assistant_reply(text="how do I change my PIN", actor=None).model_version == assistant.pk
    other = tmp_path / "other"
    shutil.copytree(trained_directory, other)
    (other / "metrics.json").write_text('{"accuracy": 1.0}', "utf-8")
    newer = install_model(trained_directory)
    _tamper(newer, other)
    # This node has never fetched it (a copy of that id and digest may be left by another test).
    shutil.rmtree(models_root() / newer.directory, ignore_errors=True)

    with caplog.at_level(logging.ERROR, logger="bankdesk.assistant"):
        after = assistant_reply(text="how do I change my PIN", actor=None)

    assert after.model_version == assistant.pk and after.intent == "change_pin"
    assert f"model v{newer.pk}'s stored files do not match their digest" in caplog.text
    assert not (models_root() / newer.directory).exists()

    # A process starting now (nothing in service yet) serves the newest version that checks out.
    engine.forget()
    assert assistant_reply(text="how do I change my PIN", actor=None).model_version == assistant.pk
    engine.forget()


def test_a_damaged_copy_on_this_node_is_fetched_again(
    assistant: ModelVersion, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(engine, "CHECK_EVERY_SECONDS", 0.0)
    engine.forget()
    copy = artifacts.model_files(assistant)
    (copy / "model.npz").write_bytes(b"a disk error")

    with caplog.at_level(logging.ERROR, logger="bankdesk.assistant"):
        assert engine.current_model() is None
    assert f"model v{assistant.pk} cannot be served on this node" in caplog.text
    assert not copy.exists()

    monkeypatch.setattr(engine, "RETRY_UNSERVABLE_SECONDS", 0.0)
    serving = engine.current_model()
    assert serving is not None and serving[0] == assistant.pk
    engine.forget()


def test_unpacking_writes_only_the_files_of_a_model(tmp_path: Path) -> None:
    def archive(entries: dict[str, bytes]) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as handle:
            for name, content in entries.items():
                handle.writestr(name, content)
        return buffer.getvalue()

    target = tmp_path / "copy"
    for entries in [
        {"model.json": b"{}", "model.npz": b"", "../escaped": b"x"},
        {"model.json": b"{}", "model.npz": b"", "/etc/absolute": b"x"},
        {"model.json": b"{}", "sub/model.npz": b""},
        {"model.json": b"{}"},
    ]:
        target.mkdir()
        with pytest.raises(ArtifactUnusable):
            artifact_unpack(archive(entries), target)
        shutil.rmtree(target)
    with pytest.raises(ArtifactUnusable, match="not a model archive"):
        artifact_unpack(b"not a zip", tmp_path)
    assert sorted(path.name for path in tmp_path.iterdir()) == []

    target.mkdir()
    artifact_unpack(archive({"model.json": b"{}", "model.npz": b"z"}), target)
    assert sorted(path.name for path in target.iterdir()) == ["model.json", "model.npz"]


def test_two_processes_fetching_one_version_keep_one_complete_copy(
    db: None, trained_directory: Path
) -> None:
    version = install_model(trained_directory)
    first = artifacts.model_files(version)
    # The other process finished first: its copy is in place when this one renames its own.
    shutil.rmtree(first)
    shutil.copytree(trained_directory, first)
    staging = artifacts.staging_directory("fetch-test")
    shutil.copytree(trained_directory, staging, dirs_exist_ok=True)

    artifacts.local_copy_keep(staging, version_id=version.pk, sha256=version.artifact.sha256)

    assert not staging.exists()
    assert (first / "model.npz").read_bytes() == (trained_directory / "model.npz").read_bytes()
    assert artifacts.model_files(version) == first


def test_a_backup_carries_the_stored_model(db: None, trained_directory: Path) -> None:
    version = install_model(trained_directory)
    stored = bytes(version.artifact.content)
    assert ModelArtifact in backup_models()
    parts = list(table_rows_dump(ModelArtifact, using="default"))
    ModelArtifact.objects.all().delete()

    for content, _ in parts:
        table_rows_load(ModelArtifact, content, using="default")

    restored = ModelArtifact.objects.get(version=version)
    assert bytes(restored.content) == stored
    assert hashlib.sha256(stored).hexdigest() == restored.sha256


def _legacy_version(directory: str) -> ModelVersion:
    return ModelVersion.objects.create(
        status=ModelStatus.READY, examples=1, labels=1, directory=directory
    )


def test_versions_trained_before_stored_models_are_stored_where_their_files_are(
    db: None,
    trained_directory: Path,
    admin_user: User,
    api_for: object,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Found by name, not number: its number depends on the order branches are merged in.
    found = Path(assistant_migrations.__file__).parent.glob("*_model_artifacts_and_*.py")
    migration = importlib.import_module(f"{assistant_migrations.__name__}.{next(found).stem}")
    engine.forget()
    here = _legacy_version("v-legacy-here")
    shutil.rmtree(models_root() / here.directory, ignore_errors=True)
    shutil.copytree(trained_directory, models_root() / here.directory)
    elsewhere = _legacy_version("v-legacy-on-another-node")

    migration.store_ready_versions_found_here(django_apps, None)

    assert (
        ModelArtifact.objects.get(version=here).sha256
        == artifact_pack(models_root() / here.directory).sha256
    )
    assert not ModelArtifact.objects.filter(version=elsewhere).exists()
    with caplog.at_level(logging.ERROR, logger="bankdesk.assistant"):
        serving = engine.current_model()
    assert serving is not None and serving[0] == here.pk
    assert f"model v{elsewhere.pk} was trained before models were stored" in caplog.text
    listed = {
        v["id"]: v
        for v in api_for(admin_user).get("/assistant/models").json_body  # type: ignore[operator]
    }
    assert listed[here.pk]["stored"] is True
    assert listed[elsewhere.pk]["stored"] is False
    assert "only nodes holding its files" in listed[elsewhere.pk]["note"]
    shutil.rmtree(models_root() / here.directory)
    engine.forget()


def test_the_api_lists_versions_without_reading_their_files(
    db: None, trained_directory: Path, admin_user: User, api_for: object
) -> None:
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):
        install_model(trained_directory)
    api: ApiClient = api_for(admin_user)  # type: ignore[operator]
    with CaptureQueriesContext(connection) as queries:
        listed = api.get("/assistant/models").json_body
    assert [v["stored"] for v in listed] == [True, True, True]
    version_queries = [q["sql"] for q in queries.captured_queries if "assistant_model" in q["sql"]]
    assert len(version_queries) == 1
    assert '"content"' not in version_queries[0]
