"""The audit key: where it comes from, and what happens when it is not the chain's own."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from bankdesk.lib.env import SettingError, env_generated_secret
from bankdesk.security.audit import AuditKeyMismatch, audit_chain, audit_record, audit_verify
from bankdesk.security.models import AuditEntry
from bankdesk.tickets.services import case_create

NAME = "BANKDESK_TEST_AUDIT_KEY"
A_KEY = "a configured audit key of more than thirty-two characters"


@pytest.fixture
def unset(monkeypatch):
    monkeypatch.delenv(NAME, raising=False)
    monkeypatch.delenv(f"{NAME}_FILE", raising=False)
    return monkeypatch


def test_an_unset_key_is_generated_once_readable_by_the_owner_only(unset, tmp_path):
    path = tmp_path / "audit_key"

    first = env_generated_secret(NAME, generated_at=path)

    assert len(first) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert env_generated_secret(NAME, generated_at=path) == first
    assert [p.name for p in tmp_path.iterdir()] == ["audit_key"]  # no draft left behind


def test_a_key_comes_from_the_environment_or_a_file(unset, tmp_path):
    unset.setenv(NAME, A_KEY)
    assert env_generated_secret(NAME, generated_at=tmp_path / "audit_key") == A_KEY
    secret_file = tmp_path / "mounted-secret"
    secret_file.write_text(A_KEY + "-from-a-file\n")
    unset.setenv(f"{NAME}_FILE", str(secret_file))
    assert env_generated_secret(NAME, generated_at=tmp_path / "audit_key") == A_KEY + "-from-a-file"
    assert not (tmp_path / "audit_key").exists()


@pytest.mark.parametrize("problem", ["missing", "a folder", "empty", "short"])
def test_a_configured_key_that_cannot_be_used_stops_bankdesk_rather_than_a_new_one(
    unset, tmp_path, problem
):
    secret_file = tmp_path / "mounted-secret"
    if problem == "a folder":
        secret_file.mkdir()
    elif problem == "empty":
        secret_file.write_text("\n")
    elif problem == "short":
        secret_file.write_text("too-short\n")
    unset.setenv(f"{NAME}_FILE", str(secret_file))

    with pytest.raises(SettingError, match=NAME):
        env_generated_secret(NAME, generated_at=tmp_path / "audit_key")

    assert not (tmp_path / "audit_key").exists()


def test_a_generated_key_that_cannot_be_read_is_not_replaced(unset, tmp_path):
    (tmp_path / "audit_key").mkdir()  # unreadable as a file, even for root

    with pytest.raises(SettingError, match="cannot be read"):
        env_generated_secret(NAME, generated_at=tmp_path / "audit_key")

    assert (tmp_path / "audit_key").is_dir()


def test_bankdesk_does_not_start_with_an_audit_key_file_it_cannot_read(tmp_path):
    env = {
        **os.environ,
        "BANKDESK_HOME": str(tmp_path),
        "BANKDESK_AUDIT_KEY_FILE": str(tmp_path / "not-mounted"),
    }
    env.pop("BANKDESK_AUDIT_KEY", None)
    result = subprocess.run(
        [sys.executable, "-m", "bankdesk.config.cli", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "BANKDESK_AUDIT_KEY_FILE" in result.stderr and "cannot be read" in result.stderr
    assert not (tmp_path / "audit_key").exists()


def test_settings_read_the_generated_key_from_bankdesk_home(settings):
    home_key = Path(settings.BANKDESK_HOME) / "audit_key"
    if os.environ.get("BANKDESK_AUDIT_KEY") or os.environ.get("BANKDESK_AUDIT_KEY_FILE"):
        pytest.skip("the key is configured in this environment")
    assert home_key.read_text().strip() == settings.BANKDESK_AUDIT_KEY


@pytest.mark.django_db
def test_a_wrong_audit_key_is_named_by_verify_and_refused_by_writers(agent, settings):
    case_create(subject="转账失败", channel="app", actor=agent)
    audit_chain()
    written = AuditEntry.objects.count()
    settings.BANKDESK_AUDIT_KEY = "the audit key of another installation, mistyped or not"

    report = audit_verify()
    assert report.broken_at == 1
    assert "is not the one the chain is sealed with" in report.problem
    with pytest.raises(CommandError, match="is not the one"):
        call_command("audit", "verify")
    with pytest.raises(AuditKeyMismatch), transaction.atomic():
        audit_record(actor=agent, action="case.viewed", object_type="tickets.case")
    with pytest.raises(CommandError, match="worker cannot start: the audit key"):
        call_command("worker", "--batch")
    assert AuditEntry.objects.count() == written
