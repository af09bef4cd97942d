"""`bankdesk up` on an empty home migrates, seeds the demo bank and serves, as the README says."""

from __future__ import annotations

import contextlib
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

# These start bankdesk in a home of its own on its embedded SQLite, whatever database the suite
# runs on: the SQLite suite runs them, and the PostgreSQL suite does not run them a second time.
pytestmark = pytest.mark.skipif(
    bool(os.environ.get("DATABASE_URL")), reason="bankdesk on its own SQLite: the SQLite suite's"
)


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


# -- stopping: nothing `bankdesk up` started may outlive it -------------------------------------


def _session_members(session: int) -> list[int]:
    """Live processes in the session `bankdesk up` leads: everything it started, at any depth
    (nothing bankdesk starts leaves the session). Read from /proc; zombies are not running."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # ended while we looked
            continue
        # After the command name, which may hold spaces: state, ppid, pgrp, session, …
        state, _ppid, _group, member_of = stat[stat.rindex(")") + 2 :].split()[:4]
        if int(member_of) == session and state != "Z":
            members.append(int(entry.name))
    return members


def _start_up(home_env: dict[str, str]) -> tuple[subprocess.Popen[bytes], Path]:
    """`bankdesk up` with its worker, serving, in a session of its own; its output goes to a
    file, which nothing it leaves behind can hold open the way it would hold a pipe."""
    port = _free_port()
    env = {**home_env, "BANKDESK_SMTP_LISTEN": f"127.0.0.1:{_free_port()}"}
    log = Path(home_env["BANKDESK_HOME"]).with_name("up.log")
    with log.open("wb") as output:
        server = subprocess.Popen(
            _bankdesk("up", "--port", str(port), "--no-demo"),
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 120
    while True:
        assert server.poll() is None, log.read_text()
        try:
            serving = _get(f"http://127.0.0.1:{port}/healthz")[0] == 200
        except OSError:
            serving = False
        if serving and len(_session_members(server.pid)) >= 2:  # itself and its worker
            return server, log
        assert time.monotonic() < deadline, "bankdesk up did not start serving with a worker"
        time.sleep(0.5)


def _end_session(server: subprocess.Popen[bytes]) -> None:
    """Whatever the test found, leave nothing running behind it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGKILL)
    server.wait()


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_up_stopped_by_a_signal_stops_its_worker_and_leaves_no_child(
    home_env: dict[str, str], stop: signal.Signals
) -> None:
    server, log = _start_up(home_env)
    try:
        # To bankdesk up alone, as a service manager or `kill` sends it: not to its group.
        os.kill(server.pid, stop)
        server.wait(timeout=60)
        left = _session_members(server.pid)
        assert (server.returncode, left) == (0, []), log.read_text()
        assert "Traceback" not in log.read_text()
    finally:
        _end_session(server)


def test_the_worker_does_not_outlive_a_bankdesk_up_that_is_killed(
    home_env: dict[str, str],
) -> None:
    server, _log = _start_up(home_env)
    try:
        os.kill(server.pid, signal.SIGKILL)  # no chance to stop anything itself
        server.wait(timeout=30)
        deadline = time.monotonic() + 60
        while _session_members(server.pid):
            assert time.monotonic() < deadline, "the worker outlived bankdesk up"
            time.sleep(0.5)
    finally:
        _end_session(server)
