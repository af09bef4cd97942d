"""The data key ring: AES-GCM encryption of C2/C3 values and keyed blind indexes.

Keys come from the settings BANKDESK_DATA_KEYS ("id:base64key,id:base64key", the first encrypts
new values) and BANKDESK_INDEX_KEY, each also read from `<NAME>_FILE`; when neither is set, from
`$BANKDESK_HOME/data_keys.json` (generated for a fresh database only, mode 0600). Every ciphertext
carries the id of its key, so keys rotate without a flag day. There is no plaintext fallback:
without the right keys bankdesk refuses to start.

A stored value reads `<form>$<key id>$<nonce and sealed bytes>`; its form says what the
authenticated data binds it to:

- `bdx2`: its table and column and the row it belongs to, so a value copied into another row
  does not decrypt, just as one copied into another column does not;
- `bdx1`: its table and column only, as bankdesk wrote values before they were bound to rows.
  Still read; the re-encryption (`keys rotate --resume`, run once by the migration that
  introduced row binding) rewrites each as `bdx2`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

COLUMN_BOUND = "bdx1"
ROW_BOUND = "bdx2"
FORMS = frozenset({COLUMN_BOUND, ROW_BOUND})
_FORM_PREFIXES = tuple(f"{form}$" for form in sorted(FORMS))
_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
NONCE_BYTES = 12
# What `KeyRing.source` says when the keys come from the settings rather than the key file.
SETTINGS_SOURCE = "BANKDESK_DATA_KEYS"


class KeyRingError(RuntimeError):
    """The data keys are missing, malformed or not the ones this database was encrypted with."""


class DecryptionError(KeyRingError):
    """A stored value does not open: wrong key, or moved from another row or column, or altered."""


def _b64decode(raw: str, what: str) -> bytes:
    try:
        value = base64.b64decode(raw.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise KeyRingError(f"{what} is not valid base64") from exc
    if len(value) != 32:
        raise KeyRingError(f"{what} must be 32 bytes (256 bits), not {len(value)}")
    return value


def new_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def new_key_id() -> str:
    return "k" + secrets.token_hex(4)


@dataclass
class KeyRing:
    primary_id: str
    keys: dict[str, bytes]
    index_key: bytes
    source: str
    _ciphers: dict[str, AESGCM] = field(default_factory=dict, repr=False)

    def cipher(self, key_id: str) -> AESGCM:
        if key_id not in self._ciphers:
            if key_id not in self.keys:
                raise DecryptionError(
                    f"value was encrypted with key {key_id!r}, which is not in the key ring "
                    f"({self.source})"
                )
            self._ciphers[key_id] = AESGCM(self.keys[key_id])
        return self._ciphers[key_id]

    def encrypt(
        self, plaintext: str, *, context: str, key_id: str | None = None, row: str | None = None
    ) -> str:
        """Encrypt under the primary key (or `key_id`), bound to `context` (table and column)
        and, when given, to `row` (the row's primary key): the value opens only there."""
        key_id = key_id or self.primary_id
        if row is not None and (not row or "\x1f" in row):
            raise ValueError("a row identity is a non-empty primary key")
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self.cipher(key_id).encrypt(
            nonce, plaintext.encode("utf-8"), _associated_data(context, row)
        )
        token = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
        form = COLUMN_BOUND if row is None else ROW_BOUND
        return f"{form}${key_id}${token}"

    def decrypt(self, stored: str, *, context: str, row: str | None = None) -> str:
        """The plaintext of a value read from `context`, in `row` when it is bound to one.

        A value written before row binding (`bdx1`) opens in its column whatever the row.
        """
        return self.decrypt_parsed(ciphertext_parse(stored), context=context, row=row)

    def decrypt_parsed(self, value: Ciphertext, *, context: str, row: str | None = None) -> str:
        """decrypt() of a stored value already taken apart (it is read on every request)."""
        if value.is_row_bound and row is None:
            raise DecryptionError(f"the value in {context} is bound to a row, and none was given")
        try:
            raw = base64.urlsafe_b64decode(value.token + "=" * (-len(value.token) % 4))
            plain = self.cipher(value.key_id).decrypt(
                raw[:NONCE_BYTES],
                raw[NONCE_BYTES:],
                _associated_data(context, row if value.is_row_bound else None),
            )
        except (InvalidTag, binascii.Error, ValueError) as exc:
            where = context if row is None else f"{context} (row {row})"
            raise DecryptionError(
                f"the value in {where} does not decrypt with key {value.key_id!r}: it was sealed "
                "for another row or column, or altered, or the key is wrong"
            ) from exc
        return plain.decode("utf-8")

    def blind_index(self, kind: str, normalised: str) -> str:
        """A keyed HMAC of a normalised value: equality lookups without storing the value."""
        message = f"{kind}\x1f{normalised}".encode()
        return hmac.new(self.index_key, message, hashlib.sha256).hexdigest()


def _associated_data(context: str, row: str | None) -> bytes:
    return context.encode() if row is None else f"{context}\x1f{row}".encode()


class Ciphertext(NamedTuple):
    """A stored value taken apart: its form (what it is bound to), its key's id, the sealed text."""

    form: str
    key_id: str
    token: str

    @property
    def is_row_bound(self) -> bool:
        return self.form == ROW_BOUND


def ciphertext_parse(stored: str) -> Ciphertext:
    parts = stored.split("$")
    if len(parts) != 3 or parts[0] not in FORMS or not _KEY_ID.match(parts[1]):
        raise DecryptionError("stored value is not a bankdesk ciphertext")
    return Ciphertext(parts[0], parts[1], parts[2])


def split_ciphertext(stored: str) -> tuple[str, str]:
    """(key id, sealed text) of a stored value, in either form."""
    value = ciphertext_parse(stored)
    return value.key_id, value.token


def is_ciphertext(value: str) -> bool:
    return value.startswith(_FORM_PREFIXES)


def key_file_path() -> Path:
    return Path(settings.BANKDESK_HOME) / "data_keys.json"


def _parse_data_keys(raw: str) -> tuple[str, dict[str, bytes]]:
    keys: dict[str, bytes] = {}
    primary = ""
    for item in raw.split(","):
        item = item.strip()
        if not item:
            continue
        key_id, _, material = item.partition(":")
        if not _KEY_ID.match(key_id) or not material:
            raise KeyRingError("BANKDESK_DATA_KEYS must look like 'id:base64key,id:base64key'")
        keys[key_id] = _b64decode(material, f"BANKDESK_DATA_KEYS key {key_id!r}")
        primary = primary or key_id
    if not keys:
        raise KeyRingError("BANKDESK_DATA_KEYS (or its _FILE) is set but holds no key")
    return primary, keys


def keys_from_settings() -> bool:
    """Whether the keys are configured (BANKDESK_DATA_KEYS / BANKDESK_INDEX_KEY or their files)
    rather than kept in the key file bankdesk manages."""
    return settings.BANKDESK_DATA_KEYS is not None or settings.BANKDESK_INDEX_KEY is not None


def _ring_from_settings() -> KeyRing:
    data_keys, index_key = settings.BANKDESK_DATA_KEYS, settings.BANKDESK_INDEX_KEY
    if data_keys is None:
        raise KeyRingError(
            "BANKDESK_INDEX_KEY is set, so BANKDESK_DATA_KEYS (or BANKDESK_DATA_KEYS_FILE) must "
            "be too: while either is set, no key file is read or generated"
        )
    primary, keys = _parse_data_keys(data_keys)
    if index_key is None:
        raise KeyRingError(
            "BANKDESK_DATA_KEYS is set, so BANKDESK_INDEX_KEY (or BANKDESK_INDEX_KEY_FILE) must "
            "be too"
        )
    index = _b64decode(index_key, "BANKDESK_INDEX_KEY")
    return KeyRing(primary, keys, index, source=SETTINGS_SOURCE)


def _read_key_file(path: Path) -> KeyRing:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        primary = data["primary"]
        keys = {kid: _b64decode(material, f"key {kid!r}") for kid, material in data["keys"].items()}
        index_key = _b64decode(data["index_key"], "index_key")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise KeyRingError(f"{path} cannot be read as a bankdesk key file: {exc}") from exc
    if primary not in keys:
        raise KeyRingError(f"{path}: the primary key {primary!r} is not among its keys")
    return KeyRing(primary, keys, index_key, source=str(path))


def write_key_file(path: Path, ring: KeyRing) -> None:
    """Write the ring atomically, readable by the owner only."""
    payload = {
        "primary": ring.primary_id,
        "keys": {kid: base64.b64encode(k).decode() for kid, k in ring.keys.items()},
        "index_key": base64.b64encode(ring.index_key).decode(),
    }
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(payload, handle, indent=2)
    os.replace(temporary, path)


def keyring_from_settings(*, create: bool) -> KeyRing:
    """Load the ring from the settings or, when none are configured, from the key file; create
    the file only if allowed (a fresh database) and never while a key source is configured."""
    if keys_from_settings():
        return _ring_from_settings()
    path = key_file_path()
    if path.exists():
        return _read_key_file(path)
    if not create:
        raise KeyRingError(
            f"no data keys: neither BANKDESK_DATA_KEYS nor {path} exists, but this database "
            "holds encrypted customer data. Restore the key file or set BANKDESK_DATA_KEYS and "
            "BANKDESK_INDEX_KEY."
        )
    key_id = new_key_id()
    ring = KeyRing(
        key_id,
        {key_id: base64.b64decode(new_key())},
        secrets.token_bytes(32),
        source=str(path),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first: use theirs
        return _read_key_file(path)
    os.close(fd)
    write_key_file(path, ring)
    return ring


_lock = threading.Lock()
_ring: KeyRing | None = None


def keyring() -> KeyRing:
    """The process's key ring, verified against the database the first time it is needed."""
    global _ring
    if _ring is not None:
        return _ring
    with _lock:
        if _ring is None:
            from bankdesk.security.keycheck import keyring_open

            ring, verified = keyring_open()
            if not verified:  # database not migrated yet: check again next time
                return ring
            _ring = ring
        return _ring


def keyring_reset() -> None:
    """Forget the loaded ring (after rotation, or in tests that change keys)."""
    global _ring
    with _lock:
        _ring = None


def decrypt_value(stored: str, *, context: str, row: str | None = None) -> str:
    """Decrypt with the process's ring; if another process rotated in a key this one has not
    loaded yet, reload the ring once and try again."""
    ring = keyring()
    value = ciphertext_parse(stored)
    if value.key_id not in ring.keys:
        keyring_reset()
        ring = keyring()
    return ring.decrypt_parsed(value, context=context, row=row)
