"""`bankdesk up` on an empty home migrates, seeds the demo bank and serves, as the README says."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

DEMO_PASSWORD = "demo-password-for-tests"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str, token: str | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url)  # noqa: S310 - loopback URL built by the test
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return response.status, response.read()


@pytest.fixture
def home_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "BANKDESK_SECRET_KEY"}}
    env.update(BANKDESK_HOME=str(tmp_path / "home"), BANKDESK_DEMO_PASSWORD=DEMO_PASSWORD)
    return env


def _bankdesk(*args: str) -> list[str]:
    return [sys.executable, "-m", "bankdesk.config.cli", *args]


def test_up_serves_the_login_page_the_schema_and_the_demo_bank(home_env: dict[str, str]) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        _bankdesk("up", "--port", str(port), "--demo-customers", "40", "--demo-cases", "200"),
        env=home_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, server.stdout.read().decode() if server.stdout else ""
            try:
                if _get(f"{base}/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "bankdesk up did not start serving"
            time.sleep(0.5)

        status, page = _get(f"{base}/")
        assert status == 200
        assert 'name="password"' in page.decode()
        status, schema = _get(f"{base}/api/v1/openapi.json")
        assert status == 200
        assert "/api/v1/cases" in json.loads(schema)["paths"]

        token = subprocess.run(
            _bankdesk("token", "create", "--user", "agent"),
            env=home_env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        assert token.startswith("bd_")
        customers = json.loads(_get(f"{base}/api/v1/customers", token)[1])
        cases = json.loads(_get(f"{base}/api/v1/cases?limit=10", token)[1])
        assert len(customers) > 0
        assert len(cases["items"]) == 10
    finally:
        os.killpg(server.pid, signal.SIGINT)
        try:
            output = server.communicate(timeout=30)[0].decode()
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            output = server.communicate()[0].decode()
    assert f"http://127.0.0.1:{port}/" in output
    for username in ("admin", "supervisor", "agent", "complaints", "auditor"):
        assert username in output
