"""Files that come with messages: stored encrypted under an unguessable name, never served
inline. The model's storage (`security.files.EncryptedFileStorage`) encrypts as it saves."""

from __future__ import annotations

import hashlib
import hmac
import mimetypes
import re
import unicodedata
import uuid
from pathlib import Path
from typing import IO

from django.core.files.base import File
from django.db import transaction

from bankdesk.lib.errors import InvalidInput
from bankdesk.lib.redaction import redact_personal_data
from bankdesk.security.audit import audit_record
from bankdesk.security.crypto import DecryptionError
from bankdesk.security.files import PLAINTEXT, file_key_id, open_decrypted
from bankdesk.staff.models import User
from bankdesk.tickets.models import Attachment, Message

MAX_BYTES = 20 * 1024 * 1024
# Types a browser might execute or render as a page are always served as plain bytes.
ACTIVE_TYPES = re.compile(
    r"^(text/html|application/xhtml\+xml|image/svg\+xml|text/xml|application/xml|"
    r"application/javascript|text/javascript|application/x-shockwave-flash)",
    re.I,
)
SAFE_FALLBACK = "application/octet-stream"


def safe_filename(raw: str) -> str:
    """A file name without paths, controls or quoting tricks, keeping Chinese characters, and
    without the identifiers people put in names ("身份证_11010519491231002X.jpg")."""
    name = unicodedata.normalize("NFC", raw).replace("\\", "/").rsplit("/", 1)[-1]
    name = redact_personal_data(name)
    name = re.sub(r"[\x00-\x1f\x7f\"'<>|:*?;]", "_", name).strip(" .") or "attachment"
    return name[:200]


def safe_content_type(filename: str, declared: str | None) -> str:
    guessed, _ = mimetypes.guess_type(filename)
    content_type = (guessed or declared or SAFE_FALLBACK).split(";")[0].strip().lower()
    if ACTIVE_TYPES.match(content_type) or not re.fullmatch(
        r"[a-z0-9.+-]+/[a-z0-9.+-]+", content_type
    ):
        return SAFE_FALLBACK
    return content_type


@transaction.atomic
def attachment_add(
    *,
    message: Message,
    upload: IO[bytes],
    filename: str,
    declared_type: str | None,
    actor: User | None,
) -> Attachment:
    """Store one uploaded file on a message, after checking its size."""
    digest = hashlib.sha256()
    size = 0
    upload.seek(0)
    while chunk := upload.read(1024 * 1024):
        size += len(chunk)
        if size > MAX_BYTES:
            raise InvalidInput(
                f"a file may be at most {MAX_BYTES // (1024 * 1024)} MiB", field="file"
            )
        digest.update(chunk)
    if size == 0:
        raise InvalidInput("the file is empty", field="file")
    upload.seek(0)
    clean_name = safe_filename(filename)
    attachment = Attachment(
        message=message,
        filename=clean_name,
        content_type=safe_content_type(clean_name, declared_type),
        size=size,
        sha256=digest.hexdigest(),
    )
    # Stored under a random name: the customer's file name never becomes a path on disk.
    attachment.file.save(uuid.uuid4().hex, File(upload), save=False)
    attachment.save()
    audit_record(actor=actor, action="attachment.add", target=message.case, fields=["attachments"])
    return attachment


def attachment_open(attachment: Attachment) -> IO[bytes]:
    """The attachment's bytes, decrypted as they are read.

    A file kept from before uploads were encrypted is served only if it is still the file
    that was uploaded (its SHA-256), so nothing put in its place is handed to staff as the
    customer's; `bankdesk keys rotate --resume` encrypts such files.
    """
    path = Path(attachment.file.path)
    if file_key_id(path) != PLAINTEXT:
        return open_decrypted(path, name=attachment.file.name)
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    if not hmac.compare_digest(digest.hexdigest(), attachment.sha256):
        raise DecryptionError(f"attachment {attachment.pk} is not the file that was uploaded")
    return path.open("rb")
