"""Encrypted backup and restore of a whole installation: its database and its uploaded files.

A backup is one sealed archive (see backup_archive) around a tar stream:

    data/NNN-<app.model>/NNNNNN.jsonl   each table's rows (backup_tables), in load order
    media/<path>                        every file under MEDIA_ROOT, decrypted (see security.files)
    manifest.json                       rows per table, audit chain head, schema, version

Restore and verify read and authenticate the whole archive before touching any database, then
load it in one transaction and compare the result with the manifest; any difference rolls the
load back. Restore works on the configured database; verify on a scratch SQLite database.
"""

from __future__ import annotations

import copy
import hmac
import io
import os
import secrets
import shutil
import tarfile
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, DatabaseError, IntegrityError, connections, transaction
from django.db.utils import load_backend
from django.utils import timezone
from tqdm import tqdm

from bankdesk.security.audit import audit_verify
from bankdesk.security.audit_checkpoints import RESTORE, audit_checkpoint_write
from bankdesk.security.backup_archive import ArchiveWriter, BackupError, archive_key_for_writing
from bankdesk.security.backup_manifest import (
    MANIFEST_NAME,
    BackupCheck,
    Manifest,
    TableCheck,
    TableCount,
)
from bankdesk.security.backup_reading import ArchiveScan, archive_load, archive_scan
from bankdesk.security.backup_tables import (
    EXCLUDED,
    backup_models,
    model_for_label,
    schema_applied,
    schema_differences,
    sequences_reset,
    table_rows_dump,
    tables_empty,
    tables_with_rows,
)
from bankdesk.security.crypto import DecryptionError, keyring
from bankdesk.security.files import open_stored, plaintext_size
from bankdesk.security.keycheck import index_canary


class BackupRefused(BackupError):
    """The target holds data, or a schema the backup's rows do not fit."""

    code = "backup_refused"


class BackupMismatch(BackupError):
    """What was loaded differs from what the manifest promised."""

    code = "backup_mismatch"


@dataclass(frozen=True)
class CreateReport:
    path: Path
    size: int
    manifest: Manifest
    seconds: float


@dataclass(frozen=True)
class RestoreReport:
    check: BackupCheck
    uploads_set_aside: Path | None
    seconds: float


def _bankdesk_version() -> str:
    try:
        return version("bankdesk")
    except PackageNotFoundError:
        return "unknown"


@contextmanager
def _extra_database(alias: str, settings_dict: dict[str, Any]) -> Iterator[str]:
    """A connection that exists only for the duration of the block, outside settings.DATABASES."""
    connections[alias] = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, alias)
    try:
        yield alias
    finally:
        connections[alias].close()
        del connections[alias]


@contextmanager
def _snapshot(using: str) -> Iterator[str]:
    """A second connection holding one consistent read-only view while the backup is written.

    SQLite (WAL) reads a snapshot without blocking writers once its transaction is DEFERRED;
    PostgreSQL needs REPEATABLE READ for every table to be read as of the same moment.
    """
    settings_dict = copy.deepcopy(connections[using].settings_dict)
    if connections[using].vendor == "sqlite":
        settings_dict["OPTIONS"]["transaction_mode"] = "DEFERRED"
    with (
        _extra_database(f"backup_snapshot_{secrets.token_hex(4)}", settings_dict) as alias,
        transaction.atomic(using=alias),
    ):
        if connections[alias].vendor == "postgresql":
            with connections[alias].cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield alias


def _add_bytes(tar: tarfile.TarFile, name: str, content: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(content)
    info.mtime = int(time.time())
    info.mode = 0o600
    tar.addfile(info, io.BytesIO(content))


def _media_files(media_root: Path) -> list[Path]:
    """Regular files under the uploads folder; symbolic links are not followed."""
    found = []
    for folder, _, names in os.walk(media_root):
        for name in names:
            path = Path(folder) / name
            if path.is_file() and not path.is_symlink():
                found.append(path)
    return sorted(found)


def _media_dump(tar: tarfile.TarFile, media_root: Path, *, progress: bool) -> tuple[int, int]:
    """Every upload, decrypted into the sealed archive: like the rows, it is encrypted again
    under the keys of the installation it is restored into. Reading it authenticates every
    chunk, so a damaged upload stops the backup instead of being copied into it."""
    paths = _media_files(media_root) if media_root.is_dir() else []
    total = 0
    with tqdm(desc="uploads", unit="B", unit_scale=True, disable=not progress) as bar:
        for path in paths:
            name = path.relative_to(media_root).as_posix()
            info = tarfile.TarInfo("media/" + name)
            try:
                info.size, info.mtime, info.mode = (
                    plaintext_size(path),
                    int(path.stat().st_mtime),
                    0o600,
                )
                with open_stored(path, name=name) as handle:
                    tar.addfile(info, handle)
            except (OSError, DecryptionError) as exc:
                raise BackupError(f"uploaded file {path} cannot be read: {exc}") from exc
            total += info.size
            bar.update(info.size)
    return len(paths), total


def _dump(tar: tarfile.TarFile, *, using: str, media_root: Path, progress: bool) -> Manifest:
    models = backup_models()
    tables: list[TableCount] = []
    with _snapshot(using) as alias:
        vendor = connections[alias].vendor
        schema = schema_applied(using=alias)
        total = sum(model._base_manager.using(alias).count() for model in models)
        with tqdm(total=total, desc="database", unit=" rows", disable=not progress) as bar:
            for position, model in enumerate(models, start=1):
                label = model._meta.label_lower
                written = 0
                parts = table_rows_dump(model, using=alias)
                for number, (content, rows) in enumerate(parts, start=1):
                    _add_bytes(tar, f"data/{position:03d}-{label}/{number:06d}.jsonl", content)
                    written += rows
                    bar.update(rows)
                tables.append(TableCount(label, model._meta.db_table, written))
        # A snapshot may end before a checkpoint written while the backup runs.
        chain = audit_verify(using=alias, complete=False)
    media_files, media_bytes = _media_dump(tar, media_root, progress=progress)
    return Manifest(
        bankdesk_version=_bankdesk_version(),
        created_at=timezone.now().astimezone(UTC).isoformat(timespec="seconds"),
        database_vendor=vendor,
        schema=schema,
        tables=tables,
        audit_entries=chain.entries,
        audit_head_hash=chain.head_hash,
        audit_broken_at=chain.broken_at,
        audit_problem=chain.problem,
        media_files=media_files,
        media_bytes=media_bytes,
        excluded=dict(EXCLUDED),
        index_check=index_canary(keyring()),
    )


def _directory_sync(folder: Path) -> None:
    """Make the rename itself durable, so a crash cannot lose a backup reported as written."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def backup_create(
    out: Path,
    *,
    using: str = DEFAULT_DB_ALIAS,
    media_root: Path | None = None,
    progress: bool = False,
) -> CreateReport:
    """Write the database and the uploaded files to one sealed archive at `out`.

    The archive appears only once complete: it is written under a hidden name beside `out`,
    readable by the owner only, and renamed at the end.
    """
    started = time.monotonic()
    media_root = Path(media_root or settings.MEDIA_ROOT).resolve()
    out = out.expanduser().resolve()
    if out.exists():
        raise BackupError(f"{out} already exists; choose another name")
    if not out.parent.is_dir():
        raise BackupError(f"folder {out.parent} does not exist")
    if out.is_relative_to(media_root):
        raise BackupError("write the backup outside the uploads folder, or it would hold itself")
    key = archive_key_for_writing()
    partial = out.with_name(f".{out.name}.partial-{secrets.token_hex(4)}")
    try:
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as sink:
            writer = ArchiveWriter(sink, key)
            with tarfile.open(fileobj=writer, mode="w|", format=tarfile.PAX_FORMAT) as tar:
                manifest = _dump(tar, using=using, media_root=media_root, progress=progress)
                _add_bytes(tar, MANIFEST_NAME, manifest.to_json())
            writer.close()
            sink.flush()
            os.fsync(sink.fileno())
        os.replace(partial, out)
        _directory_sync(out.parent)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(f"the backup cannot be written to {out}: {exc}") from exc
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return CreateReport(out, writer.size, manifest, time.monotonic() - started)


def _migrate(using: str) -> None:
    try:
        call_command("migrate", database=using, interactive=False, verbosity=0)
    except DatabaseError as exc:
        raise BackupError(
            f"the database cannot be brought up to date before loading: {exc}"
        ) from exc


def _schema_check(scan: ArchiveScan, *, using: str) -> None:
    differences = schema_differences(scan.manifest.schema, schema_applied(using=using))
    if differences:
        raise BackupRefused(
            f"the backup's rows fit another database schema ({differences}): restore it with "
            f"the bankdesk version that made it ({scan.manifest.bankdesk_version}), then upgrade"
        )


def _index_key_check(scan: ArchiveScan, here: str) -> None:
    made_with = scan.manifest.index_check
    if made_with and not hmac.compare_digest(made_with, here):
        raise BackupRefused(
            "the backup's look-ups were made with another index key than this installation's: "
            "no restored customer would be found by phone, e-mail or ID. Set BANKDESK_INDEX_KEY "
            "(or index_key in the key file) to the index key of the installation that made it"
        )


def _load_and_check(
    path: Path,
    scan: ArchiveScan,
    *,
    using: str,
    media_to: Path | None,
    progress: bool,
    keep_differences: bool = False,
) -> BackupCheck:
    """Empty the target, load the archive and compare; a difference rolls it all back unless
    `keep_differences` (a scratch copy, only there to be compared)."""
    models = [model_for_label(table.model) for table in scan.manifest.tables]
    with transaction.atomic(using=using):
        tables_empty(using=using)
        archive_load(path, scan, using=using, media_to=media_to, progress=progress)
        sequences_reset(models, using=using)
        try:
            connections[using].check_constraints()
        except IntegrityError as exc:
            raise BackupMismatch(f"the restored rows do not fit together: {exc}") from exc
        check = BackupCheck(
            manifest=scan.manifest,
            tables=[
                TableCheck(t.model, t.table, t.rows, model._base_manager.using(using).count())
                for t, model in zip(scan.manifest.tables, models, strict=True)
            ],
            audit=audit_verify(using=using, complete=False),
            media_files=scan.media_files,
            media_bytes=scan.media_bytes,
        )
        if check.problems and not keep_differences:
            raise BackupMismatch(
                "the restored copy differs from the backup's manifest, so nothing was kept: "
                + "; ".join(check.problems)
            )
    ContentType.objects.clear_cache()
    return check


def _media_swap(staging: Path, media_root: Path) -> Path | None:
    """Put the restored uploads in place; keep the ones they replace beside them."""
    set_aside = None
    if media_root.exists():
        if _media_files(media_root) or any(p.is_symlink() for p in media_root.rglob("*")):
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            set_aside = media_root.with_name(f"{media_root.name}.replaced-{stamp}")
            os.chmod(staging, media_root.stat().st_mode & 0o777)
            media_root.rename(set_aside)
        else:
            shutil.rmtree(media_root)
    staging.rename(media_root)
    return set_aside


def backup_restore(
    path: Path,
    *,
    force: bool = False,
    using: str = DEFAULT_DB_ALIAS,
    media_root: Path | None = None,
    progress: bool = False,
) -> RestoreReport:
    """Replace the database's contents and the uploaded files with a backup's.

    Refuses a database that holds data, or an uploads folder that holds files, unless `force`.
    """
    started = time.monotonic()
    scan = archive_scan(path, progress=progress)
    _migrate(using)
    _schema_check(scan, using=using)
    # The keys that will encrypt the restored values must match this database, and the index
    # key the one the backup's look-ups were made with, or no restored customer would be found.
    _index_key_check(scan, index_canary(keyring()))
    media_root = Path(media_root or settings.MEDIA_ROOT).resolve()
    if not force:
        occupied = tables_with_rows(using=using)
        if occupied:
            raise BackupRefused(
                f"the database already holds data (in {', '.join(occupied[:5])}"
                f"{', …' if len(occupied) > 5 else ''}): restore with --force to replace it"
            )
        if media_root.is_dir() and _media_files(media_root):
            raise BackupRefused(
                f"the uploads folder {media_root} already holds files: restore with --force "
                "to set them aside"
            )
    media_root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{media_root.name}.restoring-", dir=media_root.parent))
    try:
        check = _load_and_check(path, scan, using=using, media_to=staging, progress=progress)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    try:
        set_aside = _media_swap(staging, media_root)
    except OSError as exc:
        raise BackupError(
            f"the database is restored, but the uploads could not be moved into {media_root} "
            f"({exc}): they are in {staging}; move them there by hand"
        ) from exc
    try:
        # Signed record that the chain was put back on purpose: checkpoints counting entries
        # the restore gave up no longer bind it, and the checkpoint files say when and why.
        audit_checkpoint_write(using=using, kind=RESTORE)
    except OSError as exc:
        raise BackupError(
            f"the backup is restored, but the restore could not be recorded in the audit "
            f"checkpoint files ({exc}): `bankdesk audit verify` will report the entries it "
            "gave up until `bankdesk audit checkpoint --after-restore` records it"
        ) from exc
    return RestoreReport(check, set_aside, time.monotonic() - started)


def _scratch_settings(folder: Path) -> dict[str, Any]:
    settings_dict = copy.deepcopy(connections[DEFAULT_DB_ALIAS].settings_dict)
    settings_dict.update(
        ENGINE="django.db.backends.sqlite3",
        NAME=str(folder / "verify.sqlite3"),
        USER="",
        PASSWORD="",
        HOST="",
        PORT="",
        CONN_MAX_AGE=0,
        CONN_HEALTH_CHECKS=False,
        OPTIONS={"init_command": "PRAGMA foreign_keys=ON; PRAGMA synchronous=OFF;"},
    )
    return settings_dict


def backup_verify(path: Path, *, progress: bool = False) -> BackupCheck:
    """Restore a backup into a scratch SQLite database and compare it with its manifest.

    The configured database is only read (by the key ring's check); the scratch database lives
    in a private temporary folder that is removed afterwards.
    """
    scan = archive_scan(path, progress=progress)
    with (
        tempfile.TemporaryDirectory(prefix="bankdesk-verify-") as folder,
        _extra_database(
            f"backup_verify_{secrets.token_hex(4)}", _scratch_settings(Path(folder))
        ) as alias,
    ):
        _migrate(alias)
        _schema_check(scan, using=alias)
        try:
            return _load_and_check(
                path, scan, using=alias, media_to=None, progress=progress, keep_differences=True
            )
        finally:
            ContentType.objects.clear_cache()
