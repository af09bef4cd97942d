"""A trained version's files, kept in the database and copied to each node that serves it.

Training packs the version's directory (model.json, model.npz, metrics.json) into one zip and
stores it with its SHA-256 in `ModelArtifact`, in the transaction that marks the version ready.
A node that has not seen the version yet fetches the zip, checks its digest, unpacks only the
expected file names (never a path taken from the archive) into a fresh directory beside the
cache, and renames that directory into place: a rename is atomic, so two processes of one
machine fetching the same version at once each see either nothing or a complete copy. The
copy is named by version and digest, so a copy left from another database (a restore, a
reused BANKDESK_HOME) is never taken for this one.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from bankdesk.assistant.models import ModelArtifact, ModelVersion

logger = logging.getLogger("bankdesk.assistant")

REQUIRED_FILES = ("model.json", "model.npz")
OPTIONAL_FILES = ("metrics.json",)
# Far above any model bankdesk trains (BANKING77's is about 2 MB), far below a disk's worth:
# an archive claiming more is refused before anything is written.
UNPACKED_MAX_BYTES = 512 << 20
COPY_CHUNK = 1 << 20
# Directories being written (training's staging, a fetch in progress) start with a dot.
STAGING_PREFIX = "."
# This node's copy of a stored version: vNNNN-<first 16 hex digits of its SHA-256>.
LOCAL_COPY_NAME = re.compile(r"v\d{4,}-[0-9a-f]{16}")


class ArtifactUnusable(Exception):
    """A stored model cannot be served on this node; the message says why, for the logs."""


@dataclass(frozen=True)
class PackedModel:
    content: bytes
    sha256: str

    @property
    def size(self) -> int:
        return len(self.content)


def models_root() -> Path:
    """Where this node keeps its copies of trained versions."""
    return Path(settings.BANKDESK_HOME) / "assistant" / "models"


def local_directory_name(version_id: int, sha256: str) -> str:
    return f"v{version_id:04d}-{sha256[:16]}"


def staging_directory(purpose: str) -> Path:
    """A new empty directory beside the copies (same file system, so a rename is atomic)."""
    root = models_root()
    root.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{purpose}-", dir=root))


def artifact_pack(directory: Path) -> PackedModel:
    """The version's files in `directory` as one zip, with its digest."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in (*REQUIRED_FILES, *OPTIONAL_FILES):
            path = directory / name
            if path.is_file():
                archive.write(path, arcname=name)
            elif name in REQUIRED_FILES:
                raise ArtifactUnusable(f"{path} is missing")
    content = buffer.getvalue()
    return PackedModel(content, hashlib.sha256(content).hexdigest())


def artifact_unpack(content: bytes, target: Path) -> None:
    """Write the zip's expected files into the empty directory `target`.

    Names are looked up from our own list, so an entry such as ../../x or /etc/x is never
    written anywhere; an archive with any other entry, a missing file or an oversized one
    is refused whole.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile as exc:
        raise ArtifactUnusable(f"not a model archive: {exc}") from exc
    with archive:
        names = archive.namelist()
        allowed = {*REQUIRED_FILES, *OPTIONAL_FILES}
        unexpected = sorted(set(names) - allowed)
        if unexpected or len(names) != len(set(names)):
            raise ArtifactUnusable(f"unexpected entries in the model archive: {unexpected}")
        missing = [name for name in REQUIRED_FILES if name not in names]
        if missing:
            raise ArtifactUnusable(f"the model archive lacks {missing}")
        if sum(archive.getinfo(name).file_size for name in names) > UNPACKED_MAX_BYTES:
            raise ArtifactUnusable("the model archive unpacks to more than is plausible")
        written = 0
        for name in names:
            with archive.open(name) as source, (target / name).open("xb") as sink:
                while chunk := source.read(COPY_CHUNK):
                    written += len(chunk)
                    if written > UNPACKED_MAX_BYTES:  # the sizes in the directory can lie
                        raise ArtifactUnusable("the model archive unpacks to more than it says")
                    sink.write(chunk)


def _move_into_place(staging: Path, target: Path) -> None:
    """Rename a complete directory to its final name, unless another process got there first
    (then theirs, identical by digest, is kept and ours removed)."""
    try:
        os.rename(staging, target)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        if not (target / REQUIRED_FILES[0]).is_file():
            raise


def local_copy_keep(staging: Path, *, version_id: int, sha256: str) -> Path:
    """Make a directory just written by training this node's copy of the version."""
    target = models_root() / local_directory_name(version_id, sha256)
    _move_into_place(staging, target)
    return target


def local_copy_discard(directory: Path) -> None:
    """Remove this node's copy of a stored version (one that would not load), so that the
    next try fetches it again; a directory from before stored models is left alone."""
    if LOCAL_COPY_NAME.fullmatch(directory.name) and directory.parent == models_root():
        shutil.rmtree(directory, ignore_errors=True)


def model_files(version: ModelVersion) -> Path:
    """The directory on this node holding the version's files, fetched from the database and
    checked against its digest if this node has no copy yet.

    A version trained before artifacts were stored has only the directory training wrote on
    its own node; it is served where that directory exists.
    """
    stored = (
        ModelArtifact.objects.filter(version_id=version.pk).values_list("sha256", "size").first()
    )
    if stored is None:
        legacy = models_root() / version.directory if version.directory else None
        if legacy is not None and (legacy / REQUIRED_FILES[0]).is_file():
            return legacy
        raise ArtifactUnusable(
            f"model v{version.pk} was trained before models were stored in the database and "
            f"its files ({version.directory or 'no directory'}) are not on this node: only "
            "a node holding them can serve it. Train a new version to serve every node."
        )
    sha256, size = stored
    target = models_root() / local_directory_name(version.pk, sha256)
    if (target / REQUIRED_FILES[0]).is_file():
        return target
    content = bytes(
        ModelArtifact.objects.filter(version_id=version.pk).values_list("content", flat=True).get()
    )
    actual = hashlib.sha256(content).hexdigest()
    if len(content) != size or actual != sha256:
        raise ArtifactUnusable(
            f"model v{version.pk}'s stored files do not match their digest "
            f"(sha256 {actual[:16]}…, {len(content)} bytes; expected {sha256[:16]}…, "
            f"{size} bytes): refused"
        )
    staging = staging_directory(f"fetch-v{version.pk:04d}")
    try:
        artifact_unpack(content, staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _move_into_place(staging, target)
    logger.info("model v%s fetched from the database into %s", version.pk, target)
    return target
