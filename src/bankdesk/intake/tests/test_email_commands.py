"""`bankdesk up` and `bankdesk mail serve` receive mail over SMTP on the address they print."""

from __future__ import annotations

import os
import signal
import smtplib
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

# These start bankdesk in a home of its own on its embedded SQLite, whatever database the suite
# runs on: the SQLite suite runs them, and the PostgreSQL suite does not run them a second time.
pytestmark = pytest.mark.skipif(
    bool(os.environ.get("DATABASE_URL")), reason="bankdesk on its own SQLite: the SQLite suite's"
)


FIXTURES = Path(__file__).parent / "fixtures" / "email"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def home_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "BANKDESK_SECRET_KEY"}}
    env.update(BANKDESK_HOME=str(tmp_path / "home"), BANKDESK_DEMO_PASSWORD="demo-for-tests")
    return env


def bankdesk(*args: str) -> list[str]:
    return [sys.executable, "-m", "bankdesk.config.cli", *args]


def send_when_listening(port: int, process: subprocess.Popen[bytes]) -> tuple[int, bytes]:
    deadline = time.monotonic() + 120
    while True:
        assert process.poll() is None, process.stdout.read().decode() if process.stdout else ""
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
                client.ehlo()
                client.mail("zhangsan@example.cn")
                client.rcpt("service@bank.example")
                return client.data((FIXTURES / "gbk_subject.eml").read_bytes())
        except (ConnectionRefusedError, smtplib.SMTPServerDisconnected):
            assert time.monotonic() < deadline, "the SMTP receiver did not start"
            time.sleep(0.5)


def stop(process: subprocess.Popen[bytes]) -> str:
    os.killpg(process.pid, signal.SIGINT)
    try:
        return process.communicate(timeout=30)[0].decode()
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        return process.communicate()[0].decode()


def test_up_receives_mail_on_the_smtp_address_it_prints(home_env: dict[str, str]) -> None:
    smtp_port = free_port()
    home_env["BANKDESK_SMTP_LISTEN"] = f"127.0.0.1:{smtp_port}"
    server = subprocess.Popen(
        bankdesk("up", "--port", str(free_port()), "--no-demo", "--no-worker"),
        env=home_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        code, answer = send_when_listening(smtp_port, server)
    finally:
        output = stop(server)

    assert (code, answer) == (250, b"2.0.0 message accepted"), output
    assert f"SMTP: 127.0.0.1:{smtp_port}" in output


def test_up_without_smtp_does_not_listen(home_env: dict[str, str]) -> None:
    smtp_port, web_port = free_port(), free_port()
    home_env["BANKDESK_SMTP_LISTEN"] = f"127.0.0.1:{smtp_port}"
    server = subprocess.Popen(
        bankdesk("up", "--port", str(web_port), "--no-demo", "--no-worker", "--no-smtp"),
        env=home_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None
            try:
                socket.create_connection(("127.0.0.1", web_port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.5)
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", smtp_port), timeout=1).close()
    finally:
        output = stop(server)
    assert "SMTP:" not in output


def test_mail_serve_receives_mail_until_stopped(home_env: dict[str, str]) -> None:
    subprocess.run(bankdesk("migrate", "--verbosity", "0"), env=home_env, check=True)
    port = free_port()
    server = subprocess.Popen(
        bankdesk("mail", "serve", "--listen", f"127.0.0.1:{port}"),
        env=home_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        first = send_when_listening(port, server)
        again = send_when_listening(port, server)
    finally:
        output = stop(server)

    assert first == (250, b"2.0.0 message accepted"), output
    assert again == (250, b"2.0.0 already received")
    assert f"receiving e-mail over SMTP on 127.0.0.1:{port}" in output
    assert "SMTP receiver stopped" in output
