"""Uploaded files at rest: encrypted in chunks under the data keys, streamed back whole, and
any damage, reordering, truncation or move refused; rotation and `keys status` cover them."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command

from bankdesk.security.crypto import DecryptionError, keyring
from bankdesk.security.files import (
    CHUNK_BYTES,
    PLAINTEXT,
    EncryptedFileStorage,
    encrypt_stream,
    file_key_id,
    file_key_usage,
    open_decrypted,
    plaintext_size,
)
from bankdesk.tickets.attachments import attachment_open
from bankdesk.tickets.models import Attachment
from bankdesk.tickets.services import case_create

pytestmark = pytest.mark.django_db


def _sealed(tmp_path: Path, content: bytes, name: str = "attachments/a") -> Path:
    path = tmp_path / "sealed"
    with path.open("wb") as sink:
        encrypt_stream(io.BytesIO(content), sink, name=name, ring=keyring())
    return path


@pytest.mark.parametrize(
    "size", [0, 1, CHUNK_BYTES - 1, CHUNK_BYTES, CHUNK_BYTES + 1, 3 * CHUNK_BYTES + 17]
)
def test_any_size_comes_back_exactly_and_is_unreadable_on_disk(tmp_path, size):
    content = os.urandom(size)
    path = _sealed(tmp_path, content)

    with open_decrypted(path, name="attachments/a") as stream:
        assert stream.read() == content
    assert plaintext_size(path) == size
    assert file_key_id(path) == keyring().primary_id
    assert size < 16 or content[:16] not in path.read_bytes()


def test_a_recording_streams_in_chunks_without_reading_it_whole(tmp_path):
    content = os.urandom(5 * CHUNK_BYTES + 3)
    path = _sealed(tmp_path, content)
    stream = open_decrypted(path, name="attachments/a")

    parts = iter(lambda: stream.read(4096), b"")
    assert b"".join(parts) == content
    stream.close()


@pytest.mark.parametrize(
    "damage",
    [
        lambda raw: raw[:-1],  # the end cut off
        lambda raw: raw[: len(raw) - CHUNK_BYTES - 16],  # the last chunk dropped
        lambda raw: raw[:40] + bytes([raw[40] ^ 1]) + raw[41:],  # one bit flipped
        lambda raw: (
            raw[:31]
            + raw[31 + CHUNK_BYTES + 16 : 31 + 2 * (CHUNK_BYTES + 16)]
            + raw[31 : 31 + CHUNK_BYTES + 16]
            + raw[31 + 2 * (CHUNK_BYTES + 16) :]
        ),  # two chunks swapped
    ],
)
def test_a_damaged_file_is_refused_not_returned(tmp_path, damage):
    path = _sealed(tmp_path, os.urandom(3 * CHUNK_BYTES + 5))
    path.write_bytes(damage(path.read_bytes()))

    with pytest.raises(DecryptionError), open_decrypted(path, name="attachments/a") as stream:
        stream.read()


def test_a_file_moved_to_another_name_does_not_decrypt(tmp_path):
    path = _sealed(tmp_path, b"statement", name="attachments/2026/10/one")

    with pytest.raises(DecryptionError), open_decrypted(path, name="attachments/2026/10/two") as s:
        s.read()


def _attachment(agent, name: str, content: bytes) -> Attachment:
    case = case_create(subject="对账单", channel="email", actor=agent, text="附件")
    return Attachment.objects.create(
        message=case.messages.get(),
        file=ContentFile(content, name=name),
        filename=name,
        content_type="application/octet-stream",
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
    )


def test_rotation_reencrypts_files_and_encrypts_those_kept_from_before(
    isolated_keys, settings, agent, capsys
):
    media = Path(settings.MEDIA_ROOT)
    encrypted = _attachment(agent, "statement.pdf", b"%PDF statement")
    # An upload from before files were encrypted, as it sits on disk after the upgrade.
    legacy = _attachment(agent, "old.pdf", b"%PDF old")
    legacy_path = media / legacy.file.name
    legacy_path.write_bytes(b"%PDF old")
    old_id = keyring().primary_id
    assert file_key_usage() == {old_id: 1, PLAINTEXT: 1}
    with attachment_open(legacy) as stream:  # served, being still the file that was uploaded
        assert stream.read() == b"%PDF old"

    call_command("keys", "status")
    assert "1 uploaded files are not encrypted yet" in capsys.readouterr().out

    call_command("keys", "rotate")
    new_id = keyring().primary_id
    assert file_key_usage() == {new_id: 2}
    assert b"%PDF" not in legacy_path.read_bytes()
    for attachment, content in ((encrypted, b"%PDF statement"), (legacy, b"%PDF old")):
        with attachment_open(attachment) as stream:
            assert stream.read() == content
    # A file written meanwhile by a process that still had the old primary keeps that key in
    # use until `rotate --resume` has re-encrypted it.
    late = _attachment(agent, "late.pdf", b"late")
    with (media / late.file.name).open("wb") as sink:
        ring = keyring()
        encrypt_stream(io.BytesIO(b"late"), sink, name=late.file.name, ring=ring, key_id=old_id)
    with pytest.raises(CommandError, match="1 uploaded files still use"):
        call_command("keys", "retire", old_id)
    call_command("keys", "rotate", "--resume")
    call_command("keys", "retire", old_id)
    capsys.readouterr()
    call_command("keys", "status")
    status = capsys.readouterr().out
    assert f"{new_id} (primary):" in status and "values, 3 files" in status
    with attachment_open(late) as stream:
        assert stream.read() == b"late"


def test_a_plaintext_file_that_is_not_the_upload_is_not_served(agent, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    attachment = _attachment(agent, "statement.pdf", b"%PDF statement")
    (tmp_path / attachment.file.name).write_bytes(b"<html>planted</html>")

    with pytest.raises(DecryptionError, match="not the file that was uploaded"):
        attachment_open(attachment)


def test_the_storage_refuses_to_open_a_file_for_writing(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    storage = EncryptedFileStorage()
    name = storage.save("attachments/x", ContentFile(b"abc"))

    with storage.open(name) as handle:
        assert handle.read() == b"abc"
    with pytest.raises(ValueError, match="reading only"):
        storage.open(name, "wb")
