"""Live chat under load: N customers chatting at once, message round-trip p50/p99.

    python benchmarks/chat_roundtrip.py --sessions 100 --messages 5
    python benchmarks/chat_roundtrip.py --sessions 1000 --messages 5
    python benchmarks/chat_roundtrip.py --sessions 100 --url ws://127.0.0.1:8000  # a running one

Starts `bankdesk up --no-demo --no-worker` on a free port with a scratch BANKDESK_HOME (an
empty SQLite database, unless DATABASE_URL is set), opens N WebSocket chat sessions at once,
and has each send M messages one after the other. Round-trip is the time from sending a
message frame to receiving its ack, which the server sends after the message is committed to
a case (dedupe, customer, case creation or continuation, routing and SLA clocks included).
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field

import websockets

# Run as `python benchmarks/<name>.py`: this folder is on the path.
from measure import free_port, percentile


@dataclass
class Results:
    round_trips: list[float] = field(default_factory=list)
    connect_times: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1


def raise_file_limit() -> int:
    """Each session is a socket at both ends; lift the soft limit to the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def start_server(home: str, log: str | None) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    # Every simulated customer comes from 127.0.0.1: the per-address chat limits would stop all
    # but the first few, so they are lifted (still counted, so their cost is in the figures).
    env = {
        "BANKDESK_RATE_LIMIT_CHAT_SESSIONS": "1000000/60",
        "BANKDESK_RATE_LIMIT_CHAT_FRAMES": "1000000/60",
        **os.environ,
        "BANKDESK_HOME": home,
        "BANKDESK_LOG_LEVEL": "WARNING",
    }
    output = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115 - lives with the server
    command = ["up", "--no-demo", "--no-worker", "--port", str(port)]
    server = subprocess.Popen(  # noqa: S603 - our own interpreter and command, no user input
        [sys.executable, "-m", "bankdesk.config.cli", *command],
        env=env,
        stdout=output,
        stderr=output,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while True:
        if server.poll() is not None:
            raise SystemExit("bankdesk up exited before serving")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                break
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit("bankdesk up did not start serving") from None
            time.sleep(0.3)
    return server, f"ws://127.0.0.1:{port}"


async def session(
    url: str, number: int, messages: int, timeout: float, start: asyncio.Event, results: Results
) -> None:
    await start.wait()
    began = time.perf_counter()
    try:
        async with websockets.connect(
            f"{url}/ws/chat/", open_timeout=timeout, max_queue=None
        ) as ws:
            await ws.send(json.dumps({"type": "hello"}))
            welcome = json.loads(await asyncio.wait_for(ws.recv(), timeout))
            if welcome.get("type") != "welcome":
                results.error(f"hello:{welcome.get('code', welcome.get('type'))}")
                return
            results.connect_times.append(time.perf_counter() - began)
            for i in range(messages):
                client_id = f"b{number}-{i}"
                sent = time.perf_counter()
                await ws.send(
                    json.dumps({"type": "message", "client_id": client_id, "text": f"压测 {i}"})
                )
                while True:
                    frame = json.loads(await asyncio.wait_for(ws.recv(), timeout))
                    if frame.get("client_id") == client_id:
                        break
                if frame.get("type") != "ack":
                    results.error(f"message:{frame.get('code')}")
                    continue
                results.round_trips.append(time.perf_counter() - sent)
    except TimeoutError:
        results.error("timeout")
    except websockets.exceptions.ConnectionClosed as exc:
        # Which side closed, and why (1011 "keepalive ping timeout": a side too busy to pong).
        close = exc.rcvd or exc.sent
        detail = f"{close.code} {close.reason}" if close else "no close frame"
        results.error(f"{type(exc).__name__}: {detail}")
    except (OSError, websockets.exceptions.WebSocketException) as exc:
        results.error(type(exc).__name__)


async def run(url: str, sessions: int, messages: int, timeout: float) -> dict[str, object]:
    results = Results()
    start = asyncio.Event()
    tasks = [
        asyncio.create_task(session(url, n, messages, timeout, start, results))
        for n in range(sessions)
    ]
    began = time.perf_counter()
    start.set()
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - began
    trips = [t * 1000 for t in results.round_trips]
    return {
        "sessions": sessions,
        "messages_per_session": messages,
        "messages_acked": len(trips),
        "round_trip_ms_p50": round(statistics.median(trips), 1) if trips else None,
        "round_trip_ms_p99": round(percentile(trips, 0.99), 1) if trips else None,
        "round_trip_ms_max": round(max(trips), 1) if trips else None,
        "connect_ms_p50": round(statistics.median(results.connect_times) * 1000, 1)
        if results.connect_times
        else None,
        "messages_per_second": round(len(trips) / elapsed, 1),
        "elapsed_s": round(elapsed, 1),
        "errors": results.errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--messages", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per frame")
    parser.add_argument("--url", help="a running server (ws://host:port); default: start one")
    parser.add_argument("--server-log", help="write the started server's output to this file")
    args = parser.parse_args()
    limit = raise_file_limit()
    server = None
    home = tempfile.TemporaryDirectory(prefix="bankdesk-chat-bench-")
    try:
        url = args.url
        if url is None:
            server, url = start_server(home.name, args.server_log)
        report = asyncio.run(run(url, args.sessions, args.messages, args.timeout))
        report["database"] = "postgresql" if os.environ.get("DATABASE_URL") else "sqlite"
        report["file_limit"] = limit
        print(json.dumps(report, ensure_ascii=False))
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGINT)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
        home.cleanup()


if __name__ == "__main__":
    main()
