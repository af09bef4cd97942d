"""Where the data keys come from: the settings, files included, and never a key made up beside
a configured source."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bankdesk.security.crypto import KeyRingError, keyring, keyring_reset, new_key
from bankdesk.security.models import KeyCheck

pytestmark = pytest.mark.django_db

# Loads the key ring the way every bankdesk process does at start, in a process of its own so
# that the settings read this test's environment.
_LOAD_RING = (
    "import django; django.setup(); "
    "from bankdesk.security.crypto import keyring; ring = keyring(); "
    "print(ring.primary_id, sorted(ring.keys), base64.b64encode(ring.index_key).decode())"
)


def _bankdesk_process(home: Path, **environment: str) -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("BANKDESK_", "DATABASE_URL"))
    }
    source = str(Path(__file__).resolve().parents[3])  # this checkout's code, not an installed one
    env.update(
        PYTHONPATH=os.pathsep.join([source, env.get("PYTHONPATH", "")]),
        BANKDESK_HOME=str(home),
        DJANGO_SETTINGS_MODULE="bankdesk.config.settings",
        BANKDESK_SECRET_KEY="not-under-test",
        **environment,
    )
    return subprocess.run(
        [sys.executable, "-c", f"import base64; {_LOAD_RING}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _secret_file(folder: Path, name: str, content: str) -> Path:
    path = folder / name
    path.write_text(content + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path


def test_keys_given_as_files_are_the_keys_used_and_none_is_generated(tmp_path: Path) -> None:
    home, secrets_dir = tmp_path / "home", tmp_path / "run-secrets"
    home.mkdir()
    secrets_dir.mkdir()
    index_key = new_key()
    data_keys = _secret_file(secrets_dir, "data_keys", f"k2026a:{new_key()},k2025z:{new_key()}")
    index = _secret_file(secrets_dir, "index_key", index_key)

    done = _bankdesk_process(
        home, BANKDESK_DATA_KEYS_FILE=str(data_keys), BANKDESK_INDEX_KEY_FILE=str(index)
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["k2026a", "['k2025z',", "'k2026a']", index_key]
    assert not (home / "data_keys.json").exists()


@pytest.mark.parametrize(
    ("configured", "complaint"),
    [
        ({"BANKDESK_DATA_KEYS_FILE": "{missing}"}, "BANKDESK_DATA_KEYS_FILE"),
        ({"BANKDESK_INDEX_KEY_FILE": "{missing}"}, "BANKDESK_INDEX_KEY_FILE"),
        ({"BANKDESK_DATA_KEYS_FILE": "{empty}"}, "BANKDESK_DATA_KEYS"),
        ({"BANKDESK_INDEX_KEY": "{index}"}, "BANKDESK_DATA_KEYS"),
        ({"BANKDESK_DATA_KEYS": "k1:{key}"}, "BANKDESK_INDEX_KEY"),
    ],
    ids=["data keys file missing", "index key file missing", "empty", "index only", "data only"],
)
def test_a_configured_key_source_that_cannot_be_used_stops_bankdesk_and_nothing_is_generated(
    tmp_path: Path, configured: dict[str, str], complaint: str
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    empty = _secret_file(tmp_path, "empty", "")
    values = {"missing": str(tmp_path / "not-there"), "empty": str(empty), "key": new_key()}
    values["index"] = new_key()
    environment = {name: value.format(**values) for name, value in configured.items()}
    if "BANKDESK_INDEX_KEY_FILE" in environment:
        environment["BANKDESK_DATA_KEYS"] = f"k1:{new_key()}"

    done = _bankdesk_process(home, **environment)

    assert done.returncode != 0
    assert complaint in done.stderr
    assert not (home / "data_keys.json").exists()


def test_the_key_ring_reads_its_keys_from_the_settings(settings, tmp_path: Path) -> None:
    KeyCheck.objects.all().delete()  # a database these keys may encrypt
    settings.BANKDESK_HOME = tmp_path
    material = base64.b64decode(new_key())
    settings.BANKDESK_DATA_KEYS = f"kset1:{base64.b64encode(material).decode()}"
    settings.BANKDESK_INDEX_KEY = new_key()
    keyring_reset()
    try:
        ring = keyring()
        assert (ring.primary_id, ring.keys) == ("kset1", {"kset1": material})
        assert ring.index_key == base64.b64decode(settings.BANKDESK_INDEX_KEY)
        settings.BANKDESK_DATA_KEYS = ""  # configured, but empty: never "use a generated one"
        keyring_reset()
        with pytest.raises(KeyRingError, match="BANKDESK_DATA_KEYS"):
            keyring()
        assert not (tmp_path / "data_keys.json").exists()
    finally:
        keyring_reset()
