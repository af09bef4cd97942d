"""Uploaded files encrypted at rest: attachments, call recordings, anything under MEDIA_ROOT.

A file is AES-256-GCM under a data key of the ring, in chunks, so a call recording is
encrypted and decrypted as it streams, never whole in memory. The layout, version 1:

    header   b"BDF1" | key id length (1 byte) | key id (ASCII) | chunk size (4 bytes, big
             endian) | nonce prefix (7 random bytes)
    chunks   each chunk of the plaintext (the last may be shorter, even empty) sealed as
             ciphertext + 16-byte tag, with nonce = prefix | chunk number (4 bytes) | 1 if it
             is the last chunk else 0, and the header and the file's storage name as
             associated data

So the key id travels with the file and keys rotate without a flag day; chunks cannot be
reordered, dropped or cut off at the end without the tag failing; and a file moved to another
name (another attachment's) no longer decrypts. `keys status` counts files by key and
`keys rotate` re-encrypts them (`file_key_usage`, `files_reencrypt`).
"""

from __future__ import annotations

import io
import os
import secrets
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from cryptography.exceptions import InvalidTag
from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage
from django.utils.deconstruct import deconstructible

from bankdesk.security.crypto import DecryptionError, KeyRing, keyring, keyring_reset

MAGIC = b"BDF1"
CHUNK_BYTES = 64 * 1024
TAG_BYTES = 16
NONCE_PREFIX_BYTES = 7
#: What `file_key_usage` counts files not yet encrypted under (uploads from before encryption).
PLAINTEXT = "plaintext"


def _nonce(prefix: bytes, number: int, last: bool) -> bytes:
    return prefix + number.to_bytes(4, "big") + (b"\x01" if last else b"\x00")


def _read_full(source: IO[bytes], size: int) -> bytes:
    """Exactly `size` bytes, fewer only at the end: uploads may return short reads."""
    parts, wanted = [], size
    while wanted:
        part = source.read(wanted)
        if not part:
            break
        parts.append(part)
        wanted -= len(part)
    return b"".join(parts)


def encrypt_stream(
    source: IO[bytes], sink: IO[bytes], *, name: str, ring: KeyRing, key_id: str | None = None
) -> int:
    """Write `source` to `sink` encrypted for the file stored as `name`; returns the
    plaintext's size. Under the primary key unless `key_id` is given."""
    key_id = key_id or ring.primary_id
    cipher = ring.cipher(key_id)
    prefix = secrets.token_bytes(NONCE_PREFIX_BYTES)
    encoded_id = key_id.encode("ascii")
    header = MAGIC + bytes([len(encoded_id)]) + encoded_id + CHUNK_BYTES.to_bytes(4, "big") + prefix
    associated = header + name.encode("utf-8")
    sink.write(header)
    size, number = 0, 0
    chunk = _read_full(source, CHUNK_BYTES)
    while True:
        following = _read_full(source, CHUNK_BYTES) if len(chunk) == CHUNK_BYTES else b""
        last = not following
        sink.write(cipher.encrypt(_nonce(prefix, number, last), chunk, associated))
        size += len(chunk)
        if last:
            return size
        chunk, number = following, number + 1


def _header(source: IO[bytes]) -> tuple[bytes, str, int, bytes] | None:
    """(raw header, key id, chunk size, nonce prefix), or None for a file without one."""
    start = source.read(len(MAGIC) + 1)
    if len(start) < len(MAGIC) + 1 or start[: len(MAGIC)] != MAGIC:
        return None
    rest = _read_full(source, start[-1] + 4 + NONCE_PREFIX_BYTES)
    if len(rest) != start[-1] + 4 + NONCE_PREFIX_BYTES:
        raise DecryptionError("an encrypted file's header is cut short")
    key_id = rest[: start[-1]].decode("ascii", errors="replace")
    chunk_size = int.from_bytes(rest[start[-1] : start[-1] + 4], "big")
    if not 1 <= chunk_size <= 16 * 1024 * 1024:
        raise DecryptionError("an encrypted file's header is damaged")
    return start + rest, key_id, chunk_size, rest[-NONCE_PREFIX_BYTES:]


def file_key_id(path: Path) -> str:
    """The id of the key a stored file is encrypted under, or PLAINTEXT."""
    with path.open("rb") as handle:
        header = _header(handle)
    return PLAINTEXT if header is None else header[1]


def plaintext_size(path: Path) -> int:
    """The size of what the stored file holds, read from its length and header alone."""
    stored = path.stat().st_size
    with path.open("rb") as handle:
        header = _header(handle)
    if header is None:
        return stored
    body = stored - len(header[0])
    chunks = max(1, -(-body // (header[2] + TAG_BYTES)))
    if body < chunks * TAG_BYTES:
        raise DecryptionError(f"{path.name} is cut short")
    return body - chunks * TAG_BYTES


def open_stored(path: Path, *, name: str) -> IO[bytes]:
    """What a stored file holds, as a stream: decrypted, or as it is for a file kept from
    before encryption (a backup takes both; `keys rotate` encrypts the second kind)."""
    if file_key_id(path) == PLAINTEXT:
        return path.open("rb")
    return open_decrypted(path, name=name)


class DecryptingReader(io.RawIOBase):
    """The plaintext of an encrypted file, read as a stream, one chunk at a time.

    Every chunk is authenticated before any of it is returned; a damaged, reordered or cut
    off file raises DecryptionError instead of returning bytes that were not written.
    """

    def __init__(self, source: IO[bytes], *, name: str, ring: KeyRing | None = None) -> None:
        super().__init__()
        header = _header(source)
        if header is None:
            source.close()
            raise DecryptionError(f"{name} is not an encrypted bankdesk file")
        raw, key_id, self._chunk_bytes, self._prefix = header
        ring = ring or keyring()
        if key_id not in ring.keys:  # another process may have rotated a key in meanwhile
            keyring_reset()
            ring = keyring()
        self.key_id = key_id
        self._cipher = ring.cipher(key_id)
        self._associated = raw + name.encode("utf-8")
        self._source = source
        self._number = 0
        self._pending = _read_full(source, self._chunk_bytes + TAG_BYTES)
        self._buffer = b""
        self._finished = False

    def readable(self) -> bool:
        return True

    def _next_chunk(self) -> bytes:
        sealed = self._pending
        self._pending = _read_full(self._source, self._chunk_bytes + TAG_BYTES)
        last = not self._pending
        try:
            plain = self._cipher.decrypt(
                _nonce(self._prefix, self._number, last), sealed, self._associated
            )
        except InvalidTag as exc:
            raise DecryptionError(
                f"an encrypted file does not decrypt with key {self.key_id!r} at chunk "
                f"{self._number}: wrong key, damaged, or moved from another name"
            ) from exc
        self._number += 1
        self._finished = last
        return plain

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        while not self._buffer and not self._finished:
            self._buffer = self._next_chunk()
        count = min(len(view), len(self._buffer))
        view[:count] = self._buffer[:count]
        self._buffer = self._buffer[count:]
        return count

    def close(self) -> None:
        self._source.close()
        super().close()


def open_decrypted(path: Path, *, name: str, ring: KeyRing | None = None) -> io.BufferedReader:
    """The plaintext of the encrypted file at `path`, stored as `name`, as a stream."""
    return io.BufferedReader(DecryptingReader(path.open("rb"), name=name, ring=ring), CHUNK_BYTES)


def _write_encrypted(path: Path, source: IO[bytes], *, name: str, ring: KeyRing) -> None:
    """Replace the file at `path` with `source` encrypted, atomically: readers see the old
    file or the new one, and a crash leaves the old one."""
    descriptor, temporary = tempfile.mkstemp(prefix=".encrypting-", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as sink:
            encrypt_stream(source, sink, name=name, ring=ring)
            sink.flush()
            os.fsync(sink.fileno())
        os.chmod(temporary, path.stat().st_mode & 0o777)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


@deconstructible(path="bankdesk.security.files.EncryptedFileStorage")
class EncryptedFileStorage(FileSystemStorage):
    """File storage under MEDIA_ROOT that encrypts what it saves and decrypts what it opens.

    `open` returns the plaintext as a stream that cannot seek; its size is the model's to
    know (the file on disk is larger by the header and a tag per chunk).
    """

    def _save(self, name: str, content: File) -> str:
        full_path = Path(self.path(name))
        full_path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            try:
                descriptor = os.open(full_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                break
            except FileExistsError:  # the names are random; a clash only means another name
                name = self.get_available_name(name)
                full_path = Path(self.path(name))
        name = name.replace("\\", "/")
        try:
            with os.fdopen(descriptor, "wb") as sink:
                if content.seekable():
                    content.seek(0)
                encrypt_stream(content, sink, name=name, ring=keyring())
                sink.flush()
                os.fsync(sink.fileno())
        except BaseException:
            full_path.unlink(missing_ok=True)
            raise
        return name

    def _open(self, name: str, mode: str = "rb") -> File:
        if mode != "rb":
            raise ValueError("encrypted files are opened for reading only")
        return File(open_decrypted(Path(self.path(name)), name=name))


def _media_root(media_root: Path | None) -> Path:
    return Path(media_root or settings.MEDIA_ROOT)


def media_files(media_root: Path | None = None) -> Iterator[tuple[Path, str]]:
    """Every regular file under the uploads folder, with its storage name; links not followed
    and the partial files of an interrupted re-encryption left out."""
    root = _media_root(media_root)
    if not root.is_dir():
        return
    for folder, _, names in os.walk(root):
        for file_name in sorted(names):
            path = Path(folder) / file_name
            if file_name.startswith(".encrypting-") or path.is_symlink() or not path.is_file():
                continue
            yield path, path.relative_to(root).as_posix()


def file_key_usage(media_root: Path | None = None) -> dict[str, int]:
    """How many uploaded files each key encrypts; files from before encryption under
    PLAINTEXT. Reads only each file's header."""
    usage: dict[str, int] = {}
    for path, _name in media_files(media_root):
        key_id = file_key_id(path)
        usage[key_id] = usage.get(key_id, 0) + 1
    return usage


def files_reencrypt(ring: KeyRing, *, media_root: Path | None = None) -> Iterator[str]:
    """Encrypt every uploaded file not under the primary key — one under an older key, or one
    kept in plaintext from before encryption — under it; yields the name of each file
    rewritten.

    Each file is replaced atomically on its own, so an interrupted run loses nothing and the
    next run continues with the files not done yet. `keys rotate` calls this after the
    database's values.
    """
    for path, name in media_files(media_root):
        key_id = file_key_id(path)
        if key_id == ring.primary_id:
            continue
        with path.open("rb") as raw:
            if key_id == PLAINTEXT:
                _write_encrypted(path, raw, name=name, ring=ring)
            else:
                source = io.BufferedReader(DecryptingReader(raw, name=name, ring=ring))
                _write_encrypted(path, source, name=name, ring=ring)
        yield name
