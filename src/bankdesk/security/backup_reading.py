"""Reading a backup archive: a first pass that authenticates and checks it, then the load.

Nothing is loaded until the first pass has authenticated every chunk up to the final one and
found exactly what the manifest lists; the second pass authenticates everything again, so an
archive swapped in between fails inside the load's transaction.
"""

from __future__ import annotations

import hashlib
import os
import re
import tarfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from django.core.serializers.base import DeserializationError
from django.db import DatabaseError
from tqdm import tqdm

from bankdesk.security.backup_archive import ArchiveReader, BackupError, BackupUnreadable
from bankdesk.security.backup_manifest import MANIFEST_NAME, Manifest
from bankdesk.security.backup_tables import model_for_label, table_rows_load
from bankdesk.security.crypto import keyring
from bankdesk.security.files import encrypt_stream

_DATA_MEMBER = re.compile(r"^data/(\d{3,})-([a-z0-9_]+\.[a-z0-9_]+)/(\d{6,})\.jsonl$")


def member_kind(member: tarfile.TarInfo, name: str) -> tuple[str, str]:
    """("manifest" | "data" | "media", table label or file path), or the archive is unreadable."""
    if member.isfile():
        if member.name == MANIFEST_NAME:
            return "manifest", ""
        matched = _DATA_MEMBER.match(member.name)
        if matched:
            return "data", matched.group(2)
        path = PurePosixPath(member.name)
        if (
            path.parts[:1] == ("media",)
            and len(path.parts) > 1
            and not path.is_absolute()
            and not {"..", "."} & set(path.parts)
            and "\\" not in member.name
        ):
            return "media", path.relative_to("media").as_posix()
    raise BackupUnreadable(f"{name} holds an unexpected entry {member.name!r}")


@contextmanager
def archive_open(
    path: Path, on_read: Callable[[int], object] | None = None
) -> Iterator[tuple[ArchiveReader, tarfile.TarFile]]:
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise BackupError(f"{path} cannot be read: {exc.strerror}") from exc
    with handle:
        source: IO[bytes] | _ProgressSource = handle
        if on_read is not None:
            source = _ProgressSource(handle, on_read)
        reader = ArchiveReader(source, str(path))
        try:
            with tarfile.open(fileobj=reader, mode="r|") as tar:
                yield reader, tar
        except tarfile.TarError as exc:
            raise BackupUnreadable(f"{path} is damaged: {exc}") from exc


class _ProgressSource:
    def __init__(self, handle: IO[bytes], on_read: Callable[[int], object]) -> None:
        self._handle = handle
        self._on_read = on_read

    def read(self, size: int = -1, /) -> bytes:
        data = self._handle.read(size)
        self._on_read(len(data))
        return data


@dataclass(frozen=True)
class ArchiveScan:
    manifest: Manifest
    digest: bytes
    media_files: int
    media_bytes: int


def archive_scan(path: Path, *, progress: bool) -> ArchiveScan:
    """Authenticate the whole archive and check it against its manifest; change nothing."""
    rows: dict[str, int] = {}
    raw_manifest = b""
    media_files = media_bytes = 0
    size = path.stat().st_size if path.is_file() else None
    with (
        tqdm(total=size, desc="reading", unit="B", unit_scale=True, disable=not progress) as bar,
        archive_open(path, bar.update) as (reader, tar),
    ):
        for member in tar:
            kind, detail = member_kind(member, str(path))
            if kind == "manifest":
                raw_manifest = _member_read(tar, member)
            elif kind == "data":
                rows[detail] = rows.get(detail, 0) + _member_read(tar, member).count(b"\n")
            else:
                media_files += 1
                media_bytes += member.size
        reader.read_to_end()
    if not raw_manifest:
        raise BackupUnreadable(f"{path} has no manifest")
    manifest = Manifest.from_json(raw_manifest, str(path))
    expected = {table.model: table.rows for table in manifest.tables}
    if {label: count for label, count in rows.items() if count} != {
        label: count for label, count in expected.items() if count
    } or (media_files, media_bytes) != (manifest.media_files, manifest.media_bytes):
        raise BackupUnreadable(f"{path} does not hold what its manifest lists")
    for label in expected:
        model_for_label(label)
    return ArchiveScan(manifest, hashlib.sha256(raw_manifest).digest(), media_files, media_bytes)


def _member_read(tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    handle = tar.extractfile(member)
    return handle.read() if handle is not None else b""


def _media_write(folder: Path, relative: str, content: IO[bytes], member: tarfile.TarInfo) -> None:
    """One upload back in place, encrypted under this installation's primary key."""
    target = folder.joinpath(*PurePosixPath(relative).parts)
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        encrypt_stream(content, handle, name=relative, ring=keyring())
    os.utime(target, (member.mtime, member.mtime))


def archive_load(
    path: Path, scan: ArchiveScan, *, using: str, media_to: Path | None, progress: bool
) -> None:
    """Second pass: insert every row (and write every upload to `media_to`), in one go."""
    total = sum(table.rows for table in scan.manifest.tables)
    with (
        tqdm(total=total, desc="loading", unit=" rows", disable=not progress) as bar,
        archive_open(path) as (reader, tar),
    ):
        for member in tar:
            kind, detail = member_kind(member, str(path))
            if kind == "data":
                model = model_for_label(detail)
                try:
                    bar.update(table_rows_load(model, _member_read(tar, member), using=using))
                except (DatabaseError, DeserializationError, ValueError) as exc:
                    raise BackupError(f"the rows of {detail} cannot be loaded: {exc}") from exc
            elif kind == "media" and media_to is not None:
                content = tar.extractfile(member)
                if content is not None:
                    _media_write(media_to, detail, content, member)
            elif kind == "manifest" and (
                hashlib.sha256(_member_read(tar, member)).digest() != scan.digest
            ):
                raise BackupUnreadable(f"{path} changed while it was being read")
        reader.read_to_end()
