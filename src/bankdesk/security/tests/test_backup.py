"""Encrypted backups: written, verified, restored, and refused when damaged, cut or foreign."""

from __future__ import annotations

import base64
import io
import json
import os
import secrets
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from bankdesk.customers.models import Customer, Identity
from bankdesk.customers.services import customer_create
from bankdesk.security.audit import audit_verify
from bankdesk.security.backup import backup_create, backup_restore
from bankdesk.security.backup_archive import (
    MAGIC,
    ArchiveKey,
    ArchiveReader,
    ArchiveWriter,
    BackupUnreadable,
    BackupWrongKey,
    archive_key_for_writing,
)
from bankdesk.security.backup_tables import backup_models
from bankdesk.security.crypto import keyring
from bankdesk.staff.models import User
from bankdesk.tickets.models import Attachment, Case, Category, Message
from bankdesk.tickets.services import case_create, case_status_change

# The backup reads through a second connection, which sees committed rows only.
committed = pytest.mark.django_db(transaction=True)
STATEMENT = "对账单 2026-05 ".encode() * 200


def _database_state() -> dict[str, object]:
    """Every backed-up table's row count, and the audit chain's head: "nothing changed" means
    this is the same before and after."""
    state: dict[str, object] = {
        model._meta.db_table: model._base_manager.count() for model in backup_models()
    }
    state["audit"] = audit_verify().head_hash
    return state


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("backup", *args, "--no-progress", stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def uploads(settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "uploads"
    return settings.MEDIA_ROOT


@pytest.fixture
def bank(
    agent: User, customer: Customer, categories: dict[str, Category], uploads: Path
) -> dict[str, object]:
    """A small bank: a customer with encrypted name and phone, cases moving along, a statement
    uploaded on one message."""
    first = case_create(
        subject="信用卡年费扣了两次",
        channel="wechat",
        actor=agent,
        customer=customer,
        category=categories["complaint_fees"],
        text="请退还多扣的年费",
    )
    case_status_change(case=first, status="open", actor=agent)
    case_status_change(case=first, status="resolved", actor=agent, reason="已退费")
    case_create(subject="卡片挂失", channel="phone", actor=agent, customer=customer)
    message = Message.objects.get(case=first)
    attachment = Attachment.objects.create(
        message=message,
        file=ContentFile(STATEMENT, name="statement.txt"),
        filename="statement.txt",
        content_type="text/plain",
        size=len(STATEMENT),
        sha256="0" * 64,
    )
    return {"customer": customer, "attachment": attachment}


@pytest.fixture
def archive(bank: dict[str, object], tmp_path: Path) -> Path:
    path = tmp_path / "bank.bdb"
    _run("create", "--out", str(path))
    return path


def _flip(path: Path, position: int) -> Path:
    data = bytearray(path.read_bytes())
    data[position % len(data)] ^= 0x01
    damaged = path.with_name(f"flipped-{position}.bdb")
    damaged.write_bytes(bytes(data))
    return damaged


@committed
def test_a_new_backup_verifies_table_by_table(archive: Path) -> None:
    output = _run("verify", str(archive))

    assert "restores completely" in output
    assert "customers_customer" in output and "security_auditentry" in output
    assert "uploads: 1 files" in output


@committed
def test_the_archive_is_sealed_with_the_primary_data_key_and_readable_only_by_its_owner(
    archive: Path,
) -> None:
    raw = archive.read_bytes()
    header = json.loads(raw[len(MAGIC) + 4 : len(MAGIC) + 4 + int.from_bytes(raw[16:20], "big")])

    assert raw.startswith(MAGIC)
    assert header["key_source"] == "data_key" and header["key_id"] == keyring().primary_id
    assert "王小明".encode() not in raw and b"customers.customer" not in raw
    assert os.stat(archive).st_mode & 0o077 == 0


@committed
def test_restore_force_brings_back_exactly_what_was_backed_up(
    archive: Path, bank: dict[str, object], agent: User, uploads: Path
) -> None:
    before = _database_state()
    chain = audit_verify()
    phone = Identity.objects.get(kind="phone").value
    stored_file = uploads / bank["attachment"].file.name  # type: ignore[attr-defined]
    # Life goes on after the backup: a new customer and case, and a lost upload.
    customer_create(customer_number="6200009999", name="李四")
    case_create(subject="转账未到账", channel="app", actor=agent)
    stored_file.unlink()

    output = _run("restore", str(archive), "--force")

    assert "match the backup" in output
    assert _database_state() == before
    restored_chain = audit_verify()
    assert restored_chain.is_intact
    assert (restored_chain.entries, restored_chain.head_hash) == (chain.entries, chain.head_hash)
    customer = Customer.objects.get(customer_number="6200001234")
    assert customer.name == "王小明"
    assert customer.identities.get(kind="phone").value == phone
    assert phone.endswith("13812345678")
    assert not Customer.objects.filter(customer_number="6200009999").exists()
    # Back in place, encrypted again under this installation's key, and reading the same.
    assert STATEMENT[:40] not in stored_file.read_bytes()
    with Attachment.objects.get().file.open() as restored:
        assert restored.read() == STATEMENT
    # Ids carry on after the restored ones (PostgreSQL sequences were reset).
    assert case_create(subject="新的来电", channel="phone", actor=agent).pk > max(
        Case.objects.exclude(subject="新的来电").values_list("pk", flat=True)
    )


@committed
def test_restore_into_a_database_with_data_is_refused_without_force(archive: Path) -> None:
    before = _database_state()

    with pytest.raises(CommandError, match=r"already holds data.*--force"):
        _run("restore", str(archive))

    assert _database_state() == before


@committed
def test_one_flipped_byte_anywhere_fails_verify(archive: Path) -> None:
    for position in [3, 17, 30, 300, 2000, -40, -1]:
        with pytest.raises(CommandError, match=r"not a bankdesk backup|damaged|different key"):
            _run("verify", str(_flip(archive, position)))


@committed
def test_one_flipped_byte_fails_restore_and_changes_nothing(archive: Path) -> None:
    before = _database_state()

    with pytest.raises(CommandError, match="damaged or was altered"):
        _run("restore", str(_flip(archive, -100)), "--force")

    assert _database_state() == before


@committed
def test_a_truncated_archive_is_refused_and_changes_nothing(archive: Path) -> None:
    before = _database_state()
    content = archive.read_bytes()
    cut = archive.with_name("cut.bdb")

    for keep in [0, 10, 200, len(content) // 2, len(content) - 1]:
        cut.write_bytes(content[:keep])
        with pytest.raises(CommandError, match=r"truncated|not a bankdesk backup"):
            _run("restore", str(cut), "--force")

    assert _database_state() == before


def test_a_file_that_is_not_a_backup_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "notes.txt"
    other.write_text("hello")

    with pytest.raises(CommandError, match="is not a bankdesk backup"):
        _run("verify", str(other))


@committed
def test_a_backup_key_seals_the_archive_and_a_different_one_is_refused(
    bank: dict[str, object], settings, tmp_path: Path
) -> None:
    settings.BANKDESK_BACKUP_KEY = base64.b64encode(secrets.token_bytes(32)).decode()
    path = tmp_path / "offsite.bdb"
    _run("create", "--out", str(path))
    before = _database_state()

    settings.BANKDESK_BACKUP_KEY = base64.b64encode(secrets.token_bytes(32)).decode()
    with pytest.raises(CommandError, match="different key than BANKDESK_BACKUP_KEY"):
        _run("restore", str(path), "--force")
    settings.BANKDESK_BACKUP_KEY = ""
    with pytest.raises(CommandError, match="set BANKDESK_BACKUP_KEY"):
        _run("verify", str(path))

    assert _database_state() == before


def test_create_never_overwrites_a_file(tmp_path: Path) -> None:
    existing = tmp_path / "last-night.bdb"
    existing.write_bytes(b"yesterday's backup")

    with pytest.raises(CommandError, match="already exists"):
        _run("create", "--out", str(existing))

    assert existing.read_bytes() == b"yesterday's backup"


def _reseal(archive: Path, edit: Callable[[dict[str, object]], None]) -> Path:
    """The same archive, sealed again with the right key around an edited manifest."""
    edited = archive.with_name("edited.bdb")
    with archive.open("rb") as source, edited.open("wb") as sink:
        writer = ArchiveWriter(sink, archive_key_for_writing())
        with (
            tarfile.open(fileobj=ArchiveReader(source, "original"), mode="r|") as original,
            tarfile.open(fileobj=writer, mode="w|", format=tarfile.PAX_FORMAT) as copy,
        ):
            for member in original:
                content = original.extractfile(member).read()  # type: ignore[union-attr]
                if member.name == "manifest.json":
                    document = json.loads(content)
                    edit(document)
                    content = json.dumps(document).encode()
                    member.size = len(content)
                copy.addfile(member, io.BytesIO(content))
        writer.close()
    return edited


@committed
def test_an_audit_chain_other_than_the_manifest_says_fails_verify_and_restore(
    archive: Path,
) -> None:
    def other_head(manifest: dict[str, object]) -> None:
        manifest["audit"]["head_hash"] = "f" * 64  # type: ignore[index]

    edited = _reseal(archive, other_head)
    before = _database_state()

    with pytest.raises(CommandError, match=r"audit chain: .* the backup says"):
        _run("verify", str(edited))
    with pytest.raises(CommandError, match="differs from the backup's manifest"):
        _run("restore", str(edited), "--force")

    assert _database_state() == before


@committed
def test_rows_missing_from_what_the_manifest_lists_are_refused(archive: Path) -> None:
    def one_more_customer(manifest: dict[str, object]) -> None:
        for table in manifest["tables"]:  # type: ignore[attr-defined]
            if table["table"] == "customers_customer":
                table["rows"] += 1

    with pytest.raises(CommandError, match="does not hold what its manifest lists"):
        _run("verify", str(_reseal(archive, one_more_customer)))


@pytest.mark.postgresql
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs DATABASE_URL (PostgreSQL)")
@committed
def test_a_sqlite_backup_restores_into_postgresql(
    bank: dict[str, object], tmp_path: Path, uploads: Path
) -> None:
    """PostgreSQL → scratch SQLite → backup of that SQLite → back into PostgreSQL."""
    from django.db import connections

    from bankdesk.security.backup import _extra_database, _scratch_settings

    before = _database_state()
    from_postgresql = tmp_path / "pg.bdb"
    from_sqlite = tmp_path / "sqlite.bdb"
    backup_create(from_postgresql)
    with _extra_database("sqlite_copy", _scratch_settings(tmp_path)) as alias:
        backup_restore(from_postgresql, using=alias, media_root=tmp_path / "sqlite-uploads")
        assert connections[alias].vendor == "sqlite"
        backup_create(from_sqlite, using=alias, media_root=tmp_path / "sqlite-uploads")

    backup_restore(from_sqlite, force=True)

    assert _database_state() == before
    assert audit_verify().is_intact


# --- the sealed container on its own -------------------------------------------------------


@pytest.fixture
def key(settings) -> ArchiveKey:
    material = secrets.token_bytes(32)
    settings.BANKDESK_BACKUP_KEY = base64.b64encode(material).decode()
    return ArchiveKey("backup_key", "backup-key", material)


def _seal(key: ArchiveKey, payload: bytes, chunk_size: int = 4096) -> bytes:
    sink = io.BytesIO()
    writer = ArchiveWriter(sink, key, chunk_size=chunk_size)
    writer.write(payload)
    writer.close()
    return sink.getvalue()


def _open(sealed: bytes) -> bytes:
    reader = ArchiveReader(io.BytesIO(sealed), "test.bdb")
    return reader.read()


@pytest.fixture
def payload() -> bytes:
    return secrets.token_bytes(20_000)  # incompressible: several 4 KiB chunks


def _chunk_offsets(sealed: bytes) -> list[int]:
    offset = len(MAGIC) + 4 + int.from_bytes(sealed[16:20], "big")
    offsets = []
    while offset < len(sealed):
        offsets.append(offset)
        offset += 1 + 4 + 12 + int.from_bytes(sealed[offset + 1 : offset + 5], "big")
    return offsets


def test_the_container_round_trips(key: ArchiveKey, payload: bytes) -> None:
    sealed = _seal(key, payload)

    assert len(_chunk_offsets(sealed)) > 3
    assert _open(sealed) == payload


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda s, o: s[: o[2]], "without the final chunk"),
        (lambda s, o: s[: o[2] + 7], "truncated inside chunk 2"),
        (lambda s, o: s[: o[1]] + s[o[2] : o[3]] + s[o[1] : o[2]] + s[o[3] :], "chunk 1 fails"),
        (lambda s, o: s[: o[1]] + s[o[2] :], "chunk 1 fails"),
        (lambda s, o: s + b"\0", "data follows the final chunk"),
    ],
    ids=["cut-at-chunk", "cut-in-chunk", "reordered", "chunk-dropped", "trailing-data"],
)
def test_the_container_detects_cutting_reordering_and_additions(
    key: ArchiveKey,
    payload: bytes,
    damage: Callable[[bytes, list[int]], bytes],
    message: str,
) -> None:
    sealed = _seal(key, payload)

    with pytest.raises(BackupUnreadable, match=message):
        _open(damage(sealed, _chunk_offsets(sealed)))


def test_the_container_tells_a_wrong_key_from_damage(
    key: ArchiveKey, payload: bytes, settings
) -> None:
    sealed = _seal(key, payload)
    settings.BANKDESK_BACKUP_KEY = base64.b64encode(secrets.token_bytes(32)).decode()

    with pytest.raises(BackupWrongKey, match="different key"):
        _open(sealed)


@committed
def test_a_backup_indexed_with_another_index_key_is_refused(archive: Path) -> None:
    foreign = _reseal(archive, lambda manifest: manifest.update(index_check="0" * 64))
    before = _database_state()

    with pytest.raises(CommandError, match="another index key"):
        _run("restore", str(foreign), "--force")

    assert _database_state() == before
