from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bankdesk.security.crypto import key_file_path, keyring, keyring_reset


@pytest.fixture
def isolated_keys(tmp_path: Path, settings) -> Iterator[Path]:
    """A private copy of the key file, so a test may rotate or break keys without harm, and a
    private uploads folder, which rotation re-encrypts too."""
    keyring()  # make sure the suite's key file exists
    original = key_file_path()
    settings.BANKDESK_DATA_KEYS = settings.BANKDESK_INDEX_KEY = None
    settings.BANKDESK_HOME = tmp_path
    settings.MEDIA_ROOT = tmp_path / "uploads"
    shutil.copy(original, tmp_path / "data_keys.json")
    keyring_reset()
    yield tmp_path / "data_keys.json"
    keyring_reset()
