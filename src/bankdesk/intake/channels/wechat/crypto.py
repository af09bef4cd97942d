"""WeChat's message encryption for official accounts ("safe mode"): opening what WeChat seals,
sealing the passive reply, and the msg_signature that covers both.

The account's EncodingAESKey (43 characters of base64, set in WeChat's console) is an AES-256
key; the IV is its first 16 bytes. A sealed message is the base64 of AES-256-CBC over: 16
random bytes, the XML's length as 4 bytes big-endian, the XML, the account's AppId, padded
PKCS#7-style to a multiple of 32 bytes. msg_signature is SHA-1 over the sorted token,
timestamp, nonce and sealed text, so unlike the plaintext-mode signature it covers the message:
a captured signature cannot carry another one.

The scheme (CBC without a MAC, a fixed IV, SHA-1) is WeChat's, not bankdesk's choice; the
signature is checked before anything is decrypted, so a forger learns nothing from the
decryption.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import time

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from bankdesk.intake.channels.wechat.protocol import cdata
from bankdesk.intake.errors import BadSignature

ENCODING_AES_KEY_LENGTH = 43
BLOCK_BYTES = 32  # WeChat pads to 32-byte blocks, not AES's 16
RANDOM_BYTES = 16
LENGTH_BYTES = 4


def message_signature(token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    """msg_signature: SHA-1 hex of the token, timestamp, nonce and sealed text, sorted and
    joined (the hash WeChat prescribes; bankdesk cannot choose another)."""
    joined = "".join(sorted([token, timestamp, nonce, encrypt]))
    return hashlib.sha1(joined.encode("utf-8")).hexdigest()  # noqa: S324  # nosec B324


def message_signature_verify(
    *, token: str, msg_signature: str, timestamp: str, nonce: str, encrypt: str
) -> None:
    """Raise BadSignature unless msg_signature covers this sealed message (constant-time)."""
    expected = message_signature(token, timestamp, nonce, encrypt)
    if not msg_signature or not hmac.compare_digest(expected, msg_signature.lower()):
        raise BadSignature("the WeChat msg_signature does not verify")


class MessageCipher:
    """Opens and seals one official account's messages with its EncodingAESKey."""

    def __init__(self, *, encoding_aes_key: str, app_id: str) -> None:
        """Raise ValueError for a key that is not one WeChat issues."""
        if len(encoding_aes_key) != ENCODING_AES_KEY_LENGTH:
            raise ValueError(f"an EncodingAESKey has {ENCODING_AES_KEY_LENGTH} characters")
        try:
            key = base64.b64decode(encoding_aes_key + "=", validate=True)
        except binascii.Error as exc:
            raise ValueError("an EncodingAESKey is base64") from exc
        if not app_id:
            raise ValueError("sealing needs the account's AppId")
        self._key = key
        self._app_id = app_id.encode("utf-8")

    def _cipher(self) -> Cipher[modes.CBC]:
        return Cipher(algorithms.AES(self._key), modes.CBC(self._key[:16]))

    def open(self, encrypt: str) -> bytes:
        """The XML inside a sealed message; BadSignature when it was not sealed with this key
        for this account."""
        try:
            sealed = base64.b64decode(encrypt, validate=True)
        except binascii.Error as exc:
            raise BadSignature("the sealed WeChat message is not base64") from exc
        if not sealed or len(sealed) % 16:
            raise BadSignature("the sealed WeChat message is not whole AES blocks")
        decryptor = self._cipher().decryptor()
        plain = decryptor.update(sealed) + decryptor.finalize()
        pad = plain[-1]
        if not 1 <= pad <= BLOCK_BYTES or plain[-pad:] != bytes([pad]) * pad:
            raise BadSignature("the sealed WeChat message does not open with this key")
        content = plain[RANDOM_BYTES:-pad]
        if len(content) < LENGTH_BYTES:
            raise BadSignature("the sealed WeChat message does not open with this key")
        length = int.from_bytes(content[:LENGTH_BYTES], "big")
        if length > len(content) - LENGTH_BYTES:
            raise BadSignature("the sealed WeChat message does not open with this key")
        xml, app_id = (
            content[LENGTH_BYTES : LENGTH_BYTES + length],
            content[LENGTH_BYTES + length :],
        )
        if not hmac.compare_digest(app_id, self._app_id):
            raise BadSignature("the WeChat message was sealed for another account")
        return xml

    def seal(self, xml: bytes) -> str:
        """A message sealed for WeChat to open."""
        content = os.urandom(RANDOM_BYTES) + len(xml).to_bytes(LENGTH_BYTES, "big")
        content += xml + self._app_id
        pad = BLOCK_BYTES - len(content) % BLOCK_BYTES
        content += bytes([pad]) * pad
        encryptor = self._cipher().encryptor()
        return base64.b64encode(encryptor.update(content) + encryptor.finalize()).decode("ascii")


def sealed_reply(
    *, cipher: MessageCipher, token: str, reply: str, now: int | None = None, nonce: str = ""
) -> str:
    """The passive reply in safe mode: the reply XML sealed, signed with a fresh timestamp
    and nonce, in WeChat's envelope."""
    timestamp = str(int(time.time()) if now is None else now)
    nonce = nonce or str(int.from_bytes(os.urandom(4), "big"))
    encrypt = cipher.seal(reply.encode("utf-8"))
    signature = message_signature(token, timestamp, nonce, encrypt)
    return (
        "<xml>"
        f"<Encrypt>{cdata(encrypt)}</Encrypt>"
        f"<MsgSignature>{cdata(signature)}</MsgSignature>"
        f"<TimeStamp>{timestamp}</TimeStamp>"
        f"<Nonce>{cdata(nonce)}</Nonce>"
        "</xml>"
    )
