"""Live chat under load: many customers chatting at once, each message's acknowledgement timed.

    python benchmarks/chat_roundtrip.py paced --sessions 1000 --interval 10 --seconds 60
    python benchmarks/chat_roundtrip.py flat --sessions 200 --seconds 30
    python benchmarks/chat_roundtrip.py both --sessions 200                # one line each
    python benchmarks/chat_roundtrip.py flat --sessions 1000 --messages 5  # fixed count each
    python benchmarks/chat_roundtrip.py flat --url ws://127.0.0.1:8000 --server-pid 1234

Starts `bankdesk up --no-demo --no-worker --no-smtp` on a free port with a scratch
BANKDESK_HOME (an empty SQLite database, unless DATABASE_URL is set), unless --url names a
running one. No model is trained, so every message goes to people: it is acknowledged after it
is committed to a case (dedupe, customer, case creation or continuation, routing, SLA clocks
and audit included).

Every session connects and says hello first; then the timed part runs:

- `paced`: each session sends a message every --interval seconds, the sessions spread evenly
  over the interval (so --sessions / --interval messages a second in all), whether or not the
  last one was acknowledged yet, as people type. Tells whether bankdesk keeps up with a given
  load, and with what delay.
- `flat`: each session sends its next message as soon as the last one is acknowledged, for
  --seconds (or --messages each). Tells how many messages a second bankdesk takes at most.

Each mode prints one JSON line: acknowledgement p50/p99 (from the frame leaving the client),
messages acknowledged a second, connect p50/p99, errors by kind, and the server's CPU
milliseconds per message over the timed part (its process and children, Linux /proc; given
--server-pid for a running server), which a busy shared machine disturbs far less than the
rates. The client's own CPU is shown too: on a machine of two cores it competes with the
server, and `send_lag_ms_p99` (paced) says how late the client itself sent.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
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
from typing import Any

import websockets

# Run as `python benchmarks/<name>.py`: this folder is on the path.
from http_load import server_cpu_seconds
from measure import free_port, percentile

Connection = websockets.ClientConnection
# How long a paced session waits, after its last message, for the acknowledgements owed.
DRAIN_SECONDS = 30.0


@dataclass
class Results:
    acks_ms: list[float] = field(default_factory=list)
    send_lag_ms: list[float] = field(default_factory=list)
    connect_ms: list[float] = field(default_factory=list)
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
    command = ["up", "--no-demo", "--no-worker", "--no-smtp", "--port", str(port)]
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


def _closed(exc: websockets.exceptions.ConnectionClosed) -> str:
    # Which side closed, and why (1011 "keepalive ping timeout": a side too busy to pong).
    close = exc.rcvd or exc.sent
    detail = f"{close.code} {close.reason}" if close else "no close frame"
    return f"{type(exc).__name__}: {detail}"


async def session_open(url: str, timeout: float, results: Results) -> Connection | None:
    """A chat that has said hello and been welcomed, or None (the error counted)."""
    began = time.perf_counter()
    try:
        ws = await websockets.connect(f"{url}/ws/chat/", open_timeout=timeout, max_queue=None)
        await ws.send(json.dumps({"type": "hello"}))
        welcome = json.loads(await asyncio.wait_for(ws.recv(), timeout))
    except TimeoutError:
        results.error("connect:timeout")
        return None
    except websockets.exceptions.ConnectionClosed as exc:
        results.error(f"connect:{_closed(exc)}")
        return None
    except (OSError, websockets.exceptions.WebSocketException) as exc:
        results.error(f"connect:{type(exc).__name__}")
        return None
    if welcome.get("type") != "welcome":
        results.error(f"hello:{welcome.get('code', welcome.get('type'))}")
        await ws.close()
        return None
    results.connect_ms.append((time.perf_counter() - began) * 1000)
    return ws


def message_frame(number: int, i: int) -> tuple[str, str]:
    client_id = f"b{number}-{i}"
    text = f"压测 {i}"
    return client_id, json.dumps({"type": "message", "client_id": client_id, "text": text})


def count_frame(frame: dict[str, Any], sent: dict[str, float], results: Results) -> None:
    """An acknowledgement (or a refusal) of a message this session sent."""
    began = sent.pop(frame.get("client_id", ""), None)
    if began is None:
        return  # not a reply to one of ours (a replayed message, typing)
    if frame.get("type") == "ack":
        results.acks_ms.append((time.perf_counter() - began) * 1000)
    else:
        results.error(f"message:{frame.get('code')}")


async def session_paced(
    ws: Connection, number: int, first: float, interval: float, until: float, results: Results
) -> dict[str, float]:
    """Send on schedule, whatever the acknowledgements; what was never acknowledged is left."""
    sent: dict[str, float] = {}

    async def read() -> None:
        async for raw in ws:
            count_frame(json.loads(raw), sent, results)

    reader = asyncio.create_task(read())
    i, due = 0, first
    while due < until and not reader.done():
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        results.send_lag_ms.append((time.perf_counter() - due) * 1000)
        client_id, frame = message_frame(number, i)
        sent[client_id] = time.perf_counter()
        await ws.send(frame)
        i, due = i + 1, due + interval
    return await _drain(reader, sent)


async def session_flat(
    ws: Connection, number: int, until: float, messages: int | None, results: Results
) -> dict[str, float]:
    """Send the next message as soon as the last one is acknowledged."""
    sent: dict[str, float] = {}
    i = 0
    while time.perf_counter() < until and (messages is None or i < messages):
        client_id, frame = message_frame(number, i)
        sent[client_id] = time.perf_counter()
        await ws.send(frame)
        while client_id in sent:
            count_frame(json.loads(await ws.recv()), sent, results)
        i += 1
    return sent


async def _drain(reader: asyncio.Task[None], sent: dict[str, float]) -> dict[str, float]:
    """Wait a while for the acknowledgements still owed, then stop reading (a connection the
    server closed is counted by its close, not by what it left unacknowledged)."""
    deadline = time.perf_counter() + DRAIN_SECONDS
    while sent and not reader.done() and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
    reader.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await reader
    return sent


async def run_timed(
    mode: str,
    url: str,
    args: argparse.Namespace,
    server_pid: int | None,
) -> dict[str, object]:
    results = Results()
    opened = await asyncio.gather(
        *(session_open(url, args.timeout, results) for _ in range(args.sessions))
    )
    chats = [ws for ws in opened if ws is not None]
    server_before = server_cpu_seconds(server_pid) if server_pid else None
    client_before = time.process_time()
    began = time.perf_counter()
    until = began + args.seconds

    def one(number: int, ws: Connection) -> Any:
        if mode == "paced":
            first = began + args.interval * number / max(1, len(chats))
            return session_paced(ws, number, first, args.interval, until, results)
        return session_flat(ws, number, until, args.messages, results)

    async def guarded(number: int, ws: Connection) -> None:
        try:
            unanswered = await asyncio.wait_for(one(number, ws), args.seconds + args.timeout)
            for _ in unanswered:
                results.error("no_ack")
        except TimeoutError:
            results.error("timeout")
        except websockets.exceptions.ConnectionClosed as exc:
            results.error(_closed(exc))
        except (OSError, websockets.exceptions.WebSocketException) as exc:
            results.error(type(exc).__name__)

    await asyncio.gather(*(guarded(n, ws) for n, ws in enumerate(chats)))
    elapsed = time.perf_counter() - began
    server_cpu = server_cpu_seconds(server_pid) - server_before if server_pid else None
    client_cpu = time.process_time() - client_before
    await asyncio.gather(*(ws.close() for ws in chats), return_exceptions=True)
    return report(mode, args, results, elapsed, server_cpu, client_cpu)


def _ms(values: list[float], q: float) -> float | None:
    return round(percentile(values, q), 1) if values else None


def report(
    mode: str,
    args: argparse.Namespace,
    results: Results,
    elapsed: float,
    server_cpu: float | None,
    client_cpu: float,
) -> dict[str, object]:
    acks = results.acks_ms
    line: dict[str, object] = {"mode": mode, "sessions": args.sessions}
    if mode == "paced":
        line["interval_s"] = args.interval
        line["offered_per_second"] = round(args.sessions / args.interval, 1)
    line.update(
        {
            "seconds": None if args.messages_only else args.seconds,
            "messages_acked": len(acks),
            "messages_per_second": round(len(acks) / elapsed, 1),
            "ack_ms_p50": round(statistics.median(acks), 1) if acks else None,
            "ack_ms_p99": _ms(acks, 0.99),
            "ack_ms_max": round(max(acks), 1) if acks else None,
            "connect_ms_p50": _ms(results.connect_ms, 0.5),
            "connect_ms_p99": _ms(results.connect_ms, 0.99),
            "server_cpu_ms_per_message": round(server_cpu * 1000 / len(acks), 2)
            if server_cpu is not None and acks
            else None,
            "client_cpu_s": round(client_cpu, 1),
            "elapsed_s": round(elapsed, 1),
            "errors": results.errors,
        }
    )
    if mode == "paced":
        line["send_lag_ms_p99"] = _ms(results.send_lag_ms, 0.99)
    if args.messages is not None and mode == "flat":
        line["messages_per_session"] = args.messages
    return line


def stop(server: subprocess.Popen[bytes]) -> None:
    os.killpg(server.pid, signal.SIGINT)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["paced", "flat", "both"])
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--interval", type=float, default=10.0, help="paced: s between messages")
    parser.add_argument("--seconds", type=float, help="timed part (paced 60, flat 30)")
    parser.add_argument("--messages", type=int, help="flat: stop each session after these")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per frame")
    parser.add_argument("--url", help="a running server (ws://host:port); default: start one")
    parser.add_argument("--server-pid", type=int, help="the running server, to count its CPU")
    parser.add_argument("--server-log", help="write the started server's output to this file")
    args = parser.parse_args()
    if args.sessions < 1 or args.interval <= 0:
        parser.error("--sessions and --interval must be positive")
    limit = raise_file_limit()
    server = None
    home = tempfile.TemporaryDirectory(prefix="bankdesk-chat-bench-")
    try:
        url, server_pid = args.url, args.server_pid
        if url is None:
            server, url = start_server(home.name, args.server_log)
            server_pid = server.pid
        modes = ["paced", "flat"] if args.mode == "both" else [args.mode]
        seconds = args.seconds
        for mode in modes:
            args.seconds = seconds or (60.0 if mode == "paced" else 30.0)
            args.messages_only = mode == "flat" and args.messages is not None and not seconds
            if args.messages_only:
                args.seconds = 3600.0  # a fixed count of messages: as long as they take
            line = asyncio.run(run_timed(mode, url, args, server_pid))
            line["database"] = "postgresql" if os.environ.get("DATABASE_URL") else "sqlite"
            line["file_limit"] = limit
            print(json.dumps(line, ensure_ascii=False), flush=True)
    finally:
        if server is not None:
            stop(server)
        home.cleanup()


if __name__ == "__main__":
    main()
