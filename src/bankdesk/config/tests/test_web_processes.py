"""`bankdesk up` serves from several web processes, and a live notice written in one reaches
connections held by another: through the broker `bankdesk up` runs, or through Redis."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from websockets.sync.client import ClientConnection, connect

from bankdesk.config.tests.test_up import _bankdesk, _free_port, _get, _session_members

# These start bankdesk in a home of its own on its embedded SQLite, whatever database the suite
# runs on: the SQLite suite runs them, and the PostgreSQL suite does not run them a second time.
pytestmark = pytest.mark.skipif(
    bool(os.environ.get("DATABASE_URL")), reason="bankdesk on its own SQLite: the SQLite suite's"
)

# A database of Redis's own for these tests, emptied before each run: the rate limits of
# earlier runs must not count against this one.
TEST_REDIS_URL = os.environ.get("BANKDESK_TEST_REDIS_URL", "redis://127.0.0.1:6379/11")
SUPERVISOR_SETUP = """
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
from bankdesk.staff.choices import Role
from bankdesk.staff.services import staff_create

staff_create(username="supervisor", password=None, role=Role.SUPERVISOR)
call_command("token", "create", "--user", "supervisor")
"""


@pytest.fixture
def home_env(tmp_path: Path) -> dict[str, str]:
    drop = {"DATABASE_URL", "BANKDESK_SECRET_KEY", "REDIS_URL", "BANKDESK_LIVE_BROKER"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(BANKDESK_HOME=str(tmp_path / "home"))
    return env


def _web_processes(server: subprocess.Popen[bytes]) -> list[int]:
    """The `bankdesk web` children of a `bankdesk up`, read from /proc."""
    found = []
    for pid in _session_members(server.pid):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:  # ended while we looked
            continue
        if b"web" in command and b"bankdesk.config.cli" in command:
            found.append(pid)
    return sorted(found)


def _parent(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat[stat.rindex(")") + 2 :].split()[1])


def _serving_process(client_port: int, server_port: int, candidates: list[int]) -> int:
    """Which of `candidates` holds the server side of our loopback connection from
    `client_port`: its socket's inode from /proc/net/tcp, then the process with that socket."""
    inode = ""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = int(fields[1].split(":")[1], 16), int(fields[2].split(":")[1], 16)
        if (local, remote) == (server_port, client_port):
            inode = fields[9]
    assert inode, "the connection is not in /proc/net/tcp"
    for pid in candidates:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                if os.readlink(fd) == f"socket:[{inode}]":
                    return pid
    raise AssertionError("no web process holds the connection")


def _up(env: dict[str, str], *args: str) -> tuple[subprocess.Popen[bytes], int, Path]:
    """`bankdesk up` serving, in a session of its own, its output in a file."""
    port = _free_port()
    log = Path(env["BANKDESK_HOME"]).with_name("up.log")
    with log.open("wb") as output:
        server = subprocess.Popen(
            _bankdesk("up", "--port", str(port), "--no-demo", "--no-worker", "--no-smtp", *args),
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 180
    while True:
        assert server.poll() is None, log.read_text()
        with contextlib.suppress(OSError):
            if _get(f"http://127.0.0.1:{port}/healthz")[0] == 200:
                return server, port, log
        assert time.monotonic() < deadline, "bankdesk up did not start serving"
        time.sleep(0.5)


def _all_web_processes(server: subprocess.Popen[bytes], count: int) -> list[int]:
    """Wait until `count` web processes run (each imports bankdesk at its own pace)."""
    deadline = time.monotonic() + 120
    while len(pids := _web_processes(server)) < count:
        assert time.monotonic() < deadline, f"only {len(pids)} web processes"
        time.sleep(0.5)
    return pids


def _stop(server: subprocess.Popen[bytes], log: Path) -> None:
    """SIGTERM to `bankdesk up` alone, as a service manager sends it: nothing may be left."""
    os.kill(server.pid, signal.SIGTERM)
    server.wait(timeout=60)
    assert (server.returncode, _session_members(server.pid)) == (0, []), log.read_text()


def _end_session(server: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGKILL)
    server.wait()


@contextlib.contextmanager
def _chat_opened(port: int) -> Iterator[ClientConnection]:
    """A customer's chat that has become a case: hello, then a first message."""
    with connect(f"ws://127.0.0.1:{port}/ws/chat/", open_timeout=30) as chat:
        chat.send(json.dumps({"type": "hello"}))
        assert json.loads(chat.recv(timeout=30))["type"] == "welcome"
        chat.send(json.dumps({"type": "message", "client_id": "c1", "text": "我的卡被盗刷了"}))
        assert json.loads(chat.recv(timeout=30))["type"] == "ack"
        yield chat


def _connection_to(port: int, pid: int, web: list[int]) -> http.client.HTTPConnection:
    """A kept-alive HTTP connection that web process `pid` serves (the kernel hands each new
    connection to whichever process accepts first, so try until it is that one)."""
    for _attempt in range(200):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("GET", "/healthz")
        connection.getresponse().read()
        if _serving_process(connection.sock.getsockname()[1], port, web) == pid:
            return connection
        connection.close()
    raise AssertionError(f"web process {pid} accepted none of 200 connections")


@pytest.mark.parametrize("layer", ["broker", "redis"])
def test_a_staff_reply_written_in_one_web_process_reaches_a_chat_held_by_another(
    home_env: dict[str, str], layer: str
) -> None:
    if layer == "redis":
        redis.Redis.from_url(TEST_REDIS_URL).flushdb()
        home_env["REDIS_URL"] = TEST_REDIS_URL
    Path(home_env["BANKDESK_HOME"]).mkdir()
    token = subprocess.run(
        _bankdesk("shell", "--no-imports", "-c", SUPERVISOR_SETUP),
        env=home_env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    server, port, log = _up(home_env, "--processes", "2")
    try:
        web = _all_web_processes(server, 2)
        assert len(web) == 2
        assert "(2 web processes)" in log.read_text()

        with _chat_opened(port) as chat:
            chat_process = _serving_process(chat.socket.getsockname()[1], port, web)
            other_process = next(pid for pid in web if pid != chat_process)
            api = _connection_to(port, other_process, web)
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            api.request("GET", "/api/v1/cases?limit=1", headers=headers)
            case_id = json.loads(api.getresponse().read())["items"][0]["id"]
            reply = json.dumps({"text": "We have blocked the card."})
            api.request("POST", f"/api/v1/cases/{case_id}/reply", body=reply, headers=headers)
            assert api.getresponse().status == 201
            assert _serving_process(api.sock.getsockname()[1], port, web) == other_process
            frame = json.loads(chat.recv(timeout=30))
            api.close()
        assert (frame["type"], frame["author"], frame["text"]) == (
            "message",
            "staff",
            "We have blocked the card.",
        )
        _stop(server, log)
    finally:
        _end_session(server)
    assert "Traceback" not in log.read_text()


def test_up_starts_the_configured_number_of_web_processes_and_stops_them_all(
    home_env: dict[str, str],
) -> None:
    home_env["BANKDESK_WEB_PROCESSES"] = "3"
    server, _port, log = _up(home_env)
    try:
        web = _all_web_processes(server, 3)
        assert len(web) == 3
        assert {_parent(pid) for pid in web} == {server.pid}
        assert "(3 web processes)" in log.read_text()
        _stop(server, log)
    finally:
        _end_session(server)
