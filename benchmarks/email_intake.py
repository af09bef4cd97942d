"""Benchmark e-mail intake over SMTP: messages/s and per-message latency, end to end.

    python benchmarks/email_intake.py                        # SQLite in a scratch home
    python benchmarks/email_intake.py --messages 5000 --clients 8
    python benchmarks/email_intake.py --database-url postgres://postgres@127.0.0.1:5432/scratch

Migrates a scratch BANKDESK_HOME (and the given PostgreSQL database, which should be empty and
is left for you to drop), starts `bankdesk mail serve` on a free loopback port, and sends N
distinct customer mails from K concurrent smtplib clients, each on one kept-open connection.
A message counts once the receiver answered 250, which it does only after the message is on a
case. Prints one JSON line: messages/s and p50/p99 latency of one message (MAIL…DATA).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import smtplib
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from email.header import Header
from pathlib import Path

# Run as `python benchmarks/<name>.py`: this folder is on the path.
from measure import free_port, percentile

SUBJECTS = ["信用卡被盗刷", "转账失败", "手机银行无法登录", "贷款提前还款", "对账单有误"]
BODY = "您好：\n我昨天在手机银行转账，显示成功但对方没有收到，请帮我查询。\n谢谢！\n"


def message(run: str, number: int, customers: int) -> tuple[str, bytes]:
    sender = f"customer{number % customers}@example.cn"
    subject = Header(f"{SUBJECTS[number % len(SUBJECTS)]} {number}", "utf-8").encode()
    raw = (
        f"From: {sender}\r\nTo: service@bank.example\r\nSubject: {subject}\r\n"
        f"Message-ID: <bench-{run}-{number}@example.cn>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    ).encode() + BODY.encode()
    return sender, raw


def wait_listening(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while True:
        if server.poll() is not None:
            raise SystemExit("bankdesk mail serve exited before it was listening")
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
                client.noop()
                return
        except (ConnectionRefusedError, smtplib.SMTPServerDisconnected):
            if time.monotonic() > deadline:
                raise SystemExit("the SMTP receiver did not start") from None
            time.sleep(0.2)


def send_share(
    port: int, numbers: range, run: str, customers: int, latencies: list[float], errors: list[str]
) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as client:
        for number in numbers:
            sender, raw = message(run, number, customers)
            started = time.perf_counter()
            try:
                client.sendmail(sender, ["service@bank.example"], raw)
            except smtplib.SMTPException as exc:
                errors.append(str(exc))
                continue
            latencies.append((time.perf_counter() - started) * 1000)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--customers", type=int, default=500, help="distinct sender addresses")
    parser.add_argument("--database-url", help="postgres://… (default: SQLite in the home)")
    parser.add_argument("--home", help="BANKDESK_HOME to use (default: a fresh temporary one)")
    args = parser.parse_args()

    home = Path(args.home) if args.home else Path(tempfile.mkdtemp(prefix="bankdesk-email-"))
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL"}}
    env["BANKDESK_HOME"] = str(home)
    env["BANKDESK_LOG_LEVEL"] = "WARNING"
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    command = [sys.executable, "-m", "bankdesk.config.cli"]
    # S603: bankdesk's own command line, no outside input in it.
    subprocess.run([*command, "migrate", "--verbosity", "0"], env=env, check=True)  # noqa: S603
    port = free_port()
    server = subprocess.Popen(  # noqa: S603
        [*command, "mail", "serve", "--listen", f"127.0.0.1:{port}"],
        env=env,
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_listening(port, server)
        run = uuid.uuid4().hex[:8]
        latencies: list[float] = []
        errors: list[str] = []
        shares = [range(i, args.messages, args.clients) for i in range(args.clients)]
        threads = [
            threading.Thread(
                target=send_share, args=(port, share, run, args.customers, latencies, errors)
            )
            for share in shares
        ]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
    finally:
        os.killpg(server.pid, signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        if not args.home:
            shutil.rmtree(home, ignore_errors=True)
    print(
        json.dumps(
            {
                "benchmark": "email_intake_smtp",
                "database": "postgresql" if args.database_url else "sqlite",
                "messages": args.messages,
                "clients": args.clients,
                "accepted": len(latencies),
                "errors": len(errors),
                "first_error": errors[0] if errors else None,
                "messages_per_second": round(len(latencies) / elapsed, 1),
                "p50_ms": round(percentile(latencies, 0.50), 1) if latencies else None,
                "p99_ms": round(percentile(latencies, 0.99), 1) if latencies else None,
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
