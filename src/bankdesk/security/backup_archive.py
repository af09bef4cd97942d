"""The sealed backup container: a header, then AES-GCM chunks of a zlib-compressed stream.

Layout (integers big-endian)::

    "BANKDESK-BACKUP\\n" | u32 header length | header (JSON, UTF-8)
    chunk, repeated:  u8 kind (0 more, 1 final) | u32 sealed length | 12-byte nonce | sealed

Every chunk is sealed with a key used for this archive alone (HKDF of the master key with a
random salt from the header). Its associated data is the SHA-256 of the header, the chunk's
index and its kind, so a changed byte anywhere, chunks reordered or dropped, or a file cut short
(no final chunk) all fail before any content is used. The master key is BANKDESK_BACKUP_KEY
when set, else the key ring's primary data key; the header names which, with a fingerprint that
tells a wrong key from a damaged file.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import io
import json
import secrets
import struct
import zlib
from dataclasses import dataclass, field
from typing import Any, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

from bankdesk.lib.errors import BankdeskError
from bankdesk.security.crypto import KeyRingError, keyring, keyring_from_settings

MAGIC = b"BANKDESK-BACKUP\n"
FORMAT = 1
CHUNK_SIZE = 1 << 20
HEADER_MAX = 64 * 1024
NONCE_BYTES = 12
TAG_BYTES = 16
COMPRESS_LEVEL = 3  # most of the gain of level 9 on JSON rows, at several times the speed
_MORE, _FINAL = 0, 1
_CHUNK_PREFIX = struct.Struct(">BI")
BACKUP_KEY = "backup_key"
DATA_KEY = "data_key"


class ByteSource(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class ByteSink(Protocol):
    def write(self, data: bytes, /) -> object: ...


class BackupError(BankdeskError):
    """A backup cannot be written, read or restored; the message says why and what to do."""

    code = "backup_failed"


class BackupUnreadable(BackupError):
    """Not a bankdesk backup, or one that is damaged or cut short."""

    code = "backup_unreadable"


class BackupWrongKey(BackupError):
    code = "backup_wrong_key"


def _hkdf(material: bytes, *, salt: bytes, info: bytes, length: int = 32) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(material)


@dataclass(frozen=True)
class ArchiveKey:
    """The master secret an archive is sealed with, and how a restore finds it again."""

    source: str  # BACKUP_KEY or DATA_KEY
    key_id: str
    material: bytes = field(repr=False)

    def _info(self, purpose: str) -> bytes:
        return "\x1f".join(["bankdesk backup v1", purpose, self.source, self.key_id]).encode()

    @property
    def check(self) -> str:
        """A fingerprint safe to publish: says "wrong key" rather than "damaged"."""
        return _hkdf(self.material, salt=b"", info=self._info("key check"), length=16).hex()

    def archive_cipher(self, salt: bytes) -> AESGCM:
        return AESGCM(_hkdf(self.material, salt=salt, info=self._info("archive key")))


def backup_key_configured() -> ArchiveKey | None:
    """BANKDESK_BACKUP_KEY (or _FILE): a key kept apart from the data keys, for off-site copies."""
    raw = str(settings.BANKDESK_BACKUP_KEY).strip()
    if not raw:
        return None
    try:
        material = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BackupError("BANKDESK_BACKUP_KEY is not valid base64") from exc
    if len(material) != 32:
        raise BackupError(f"BANKDESK_BACKUP_KEY must be 32 bytes (256 bits), not {len(material)}")
    return ArchiveKey(BACKUP_KEY, "backup-key", material)


def archive_key_for_writing() -> ArchiveKey:
    configured = backup_key_configured()
    if configured is not None:
        return configured
    ring = keyring()
    return ArchiveKey(DATA_KEY, ring.primary_id, ring.keys[ring.primary_id])


@dataclass(frozen=True)
class ArchiveHeader:
    chunk_size: int
    key_source: str
    key_id: str
    key_check: str
    salt: bytes
    digest: bytes  # SHA-256 of the header as stored, bound into every chunk


def _archive_key_for_reading(header: ArchiveHeader, name: str) -> ArchiveKey:
    if header.key_source == BACKUP_KEY:
        key = backup_key_configured()
        if key is None:
            raise BackupWrongKey(
                f"{name} was sealed with a backup key: set BANKDESK_BACKUP_KEY "
                "(or BANKDESK_BACKUP_KEY_FILE) to the key it was made with"
            )
    else:
        # The key file alone, not the database: reading an archive must not depend on the
        # database it is about to replace.
        try:
            ring = keyring_from_settings(create=False)
        except KeyRingError as exc:
            raise BackupWrongKey(
                f"{name} was sealed with data key {header.key_id!r}, but no key ring is "
                f"available: {exc}"
            ) from exc
        if header.key_id not in ring.keys:
            raise BackupWrongKey(
                f"{name} was sealed with data key {header.key_id!r}, which is not in the key "
                f"ring ({ring.source}): restore that key file or BANKDESK_DATA_KEYS"
            )
        key = ArchiveKey(DATA_KEY, header.key_id, ring.keys[header.key_id])
    if not hmac.compare_digest(key.check, header.key_check):
        what = "BANKDESK_BACKUP_KEY" if header.key_source == BACKUP_KEY else "this data key"
        raise BackupWrongKey(
            f"{name} was sealed with a different key than {what} (or its header is damaged)"
        )
    return key


def _read_exactly(source: ByteSource, size: int) -> bytes:
    data = source.read(size)
    while len(data) < size:
        more = source.read(size - len(data))
        if not more:
            break
        data += more
    return data


def _header_read(source: ByteSource, name: str) -> ArchiveHeader:
    if _read_exactly(source, len(MAGIC)) != MAGIC:
        raise BackupUnreadable(f"{name} is not a bankdesk backup")
    raw_length = _read_exactly(source, 4)
    if len(raw_length) < 4:
        raise BackupUnreadable(f"{name} is truncated: it ends inside its header")
    (length,) = struct.unpack(">I", raw_length)
    if not 2 <= length <= HEADER_MAX:
        raise BackupUnreadable(f"{name} is damaged: its header length is impossible")
    body = _read_exactly(source, length)
    if len(body) < length:
        raise BackupUnreadable(f"{name} is truncated: it ends inside its header")
    try:
        data: dict[str, Any] = json.loads(body)
        version = data["format"]
        if isinstance(version, int) and version != FORMAT:
            raise BackupUnreadable(
                f"{name} is backup format {version}; this bankdesk reads format {FORMAT}: "
                "use the bankdesk version that made it"
            )
        header = ArchiveHeader(
            chunk_size=int(data["chunk_size"]),
            key_source=str(data["key_source"]),
            key_id=str(data["key_id"]),
            key_check=str(data["key_check"]),
            salt=base64.b64decode(data["salt"], validate=True),
            digest=hashlib.sha256(MAGIC + raw_length + body).digest(),
        )
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise BackupUnreadable(f"{name} is damaged: its header cannot be read") from exc
    valid = (
        version == FORMAT
        and header.key_source in {BACKUP_KEY, DATA_KEY}
        and 4096 <= header.chunk_size <= 64 * CHUNK_SIZE
        and len(header.salt) == 32
    )
    if not valid:
        raise BackupUnreadable(f"{name} is damaged: its header holds impossible values")
    return header


def _associated_data(digest: bytes, index: int, kind: int) -> bytes:
    return digest + struct.pack(">QB", index, kind)


class _Stream:
    """What tarfile asks of a file object; each side implements its half."""

    def read(self, size: int = -1, /) -> bytes:
        raise io.UnsupportedOperation("read")

    def write(self, data: bytes, /) -> int:
        raise io.UnsupportedOperation("write")

    def seek(self, position: int, /) -> int:
        raise io.UnsupportedOperation("a sealed archive is read and written in one pass")

    def tell(self) -> int:
        raise io.UnsupportedOperation("tell")

    def close(self) -> None:
        pass


class ArchiveWriter(_Stream):
    """Compresses, chunks and seals what is written; nothing readable reaches the sink."""

    def __init__(self, sink: ByteSink, key: ArchiveKey, *, chunk_size: int = CHUNK_SIZE) -> None:
        salt = secrets.token_bytes(32)
        header = {
            "format": FORMAT,
            "cipher": "AES-256-GCM",
            "compression": "zlib",
            "chunk_size": chunk_size,
            "key_source": key.source,
            "key_id": key.key_id,
            "key_check": key.check,
            "salt": base64.b64encode(salt).decode(),
        }
        body = json.dumps(header, sort_keys=True).encode()
        prefix = MAGIC + struct.pack(">I", len(body)) + body
        sink.write(prefix)
        self._sink = sink
        self._digest = hashlib.sha256(prefix).digest()
        self._cipher = key.archive_cipher(salt)
        self._compressor = zlib.compressobj(COMPRESS_LEVEL)
        self._chunk_size = chunk_size
        self._buffer = bytearray()
        self._index = 0
        self._closed = False
        self.size = len(prefix)

    def _seal(self, plaintext: bytes, kind: int) -> None:
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self._cipher.encrypt(
            nonce, plaintext, _associated_data(self._digest, self._index, kind)
        )
        self._sink.write(_CHUNK_PREFIX.pack(kind, len(sealed)) + nonce + sealed)
        self.size += _CHUNK_PREFIX.size + NONCE_BYTES + len(sealed)
        self._index += 1

    def write(self, data: bytes, /) -> int:
        if self._closed:
            raise ValueError("the archive is already sealed")
        self._buffer += self._compressor.compress(data)
        while len(self._buffer) >= self._chunk_size:
            self._seal(bytes(self._buffer[: self._chunk_size]), _MORE)
            del self._buffer[: self._chunk_size]
        return len(data)

    def close(self) -> None:
        """Seal what is left as the final chunk: without it a reader reports truncation."""
        if self._closed:
            return
        self._buffer += self._compressor.flush()
        while len(self._buffer) > self._chunk_size:
            self._seal(bytes(self._buffer[: self._chunk_size]), _MORE)
            del self._buffer[: self._chunk_size]
        self._seal(bytes(self._buffer), _FINAL)
        self._buffer.clear()
        self._closed = True


class ArchiveReader(_Stream):
    """Opens and decompresses a sealed archive; every byte it returns has been authenticated.

    Errors are BackupUnreadable or BackupWrongKey, raised at the first chunk that fails.
    """

    def __init__(self, source: ByteSource, name: str) -> None:
        self.name = name
        self.header = _header_read(source, name)
        self._cipher = _archive_key_for_reading(self.header, name).archive_cipher(self.header.salt)
        self._source = source
        self._decompressor = zlib.decompressobj()
        self._plain = bytearray()
        self._index = 0
        self._finished = False

    def _open_next_chunk(self) -> None:
        prefix = _read_exactly(self._source, _CHUNK_PREFIX.size)
        if not prefix:
            raise BackupUnreadable(
                f"{self.name} is truncated: it ends after chunk {self._index} without the "
                "final chunk"
            )
        if len(prefix) < _CHUNK_PREFIX.size:
            raise BackupUnreadable(f"{self.name} is truncated inside chunk {self._index}")
        kind, length = _CHUNK_PREFIX.unpack(prefix)
        if kind not in {_MORE, _FINAL} or not TAG_BYTES <= length <= (
            self.header.chunk_size + TAG_BYTES
        ):
            raise BackupUnreadable(f"{self.name} is damaged at chunk {self._index}")
        body = _read_exactly(self._source, NONCE_BYTES + length)
        if len(body) < NONCE_BYTES + length:
            raise BackupUnreadable(f"{self.name} is truncated inside chunk {self._index}")
        try:
            plaintext = self._cipher.decrypt(
                body[:NONCE_BYTES],
                body[NONCE_BYTES:],
                _associated_data(self.header.digest, self._index, kind),
            )
        except InvalidTag as exc:
            raise BackupUnreadable(
                f"{self.name} is damaged or was altered: chunk {self._index} fails authentication"
            ) from exc
        self._index += 1
        try:
            self._plain += self._decompressor.decompress(plaintext)
            if kind == _FINAL:
                self._plain += self._decompressor.flush()
        except zlib.error as exc:  # authenticated, so only a writer's bug gets here
            raise BackupUnreadable(f"{self.name} is damaged: {exc}") from exc
        if kind == _FINAL:
            if self._source.read(1):
                raise BackupUnreadable(f"{self.name} is damaged: data follows the final chunk")
            if not self._decompressor.eof or self._decompressor.unused_data:
                raise BackupUnreadable(f"{self.name} is damaged: its content is incomplete")
            self._finished = True

    def read(self, size: int = -1, /) -> bytes:
        while not self._finished and (size < 0 or len(self._plain) < size):
            self._open_next_chunk()
        if size < 0 or size >= len(self._plain):
            data = bytes(self._plain)
            self._plain.clear()
        else:
            data = bytes(self._plain[:size])
            del self._plain[:size]
        return data

    def read_to_end(self) -> None:
        """Authenticate whatever the caller did not need, up to the final chunk."""
        while self.read(CHUNK_SIZE):
            pass
