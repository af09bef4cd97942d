"""One HTTP load client for any ticket API, so two systems are measured by the same hands.

    python benchmarks/http_load.py create --url http://127.0.0.1:8000/api/v1/cases \\
        --auth "Bearer $TOKEN" --n 2000 --clients 16 \\
        --body '{"subject": "Card blocked #{i}", "channel": "phone", "text": "load {i}"}'
    python benchmarks/http_load.py list --url 'http://127.0.0.1:8000/api/v1/cases?limit=25' \\
        --auth "Bearer $TOKEN" --seconds 20 --clients 16 --page-key items
    python benchmarks/http_load.py compare results.txt      # the ratio table of a run

`create` posts --n JSON bodies from --clients threads at once, each with its own keep-alive
connection (a server that closes after every answer, like gunicorn's sync workers, makes the
client reconnect: that cost is the server's choice and is measured). The body is a template:
`{i}` is the request's number, `{i%5}` its remainder, `{i%5+1}` that plus one. `list` has the
same clients fetch one URL (a first page) over and over for --seconds, checking once per client
that the answer holds a page under --page-key. Both print a human line and one `JSON {...}`
line: requests per second over the wall-clock time of all clients, latency p50/p99, every
non-2xx answer counted by status (0: no answer), and, given --server-pid, the server's CPU
milliseconds per request, summed over the process and its children (Linux /proc), which a busy
shared machine disturbs far less than the rate. `--tag key=value` adds fields to the JSON line.

`compare` reads such lines (from several runs and systems) and prints, per database, the
bankdesk/peer ratio of every figure.
"""

from __future__ import annotations

import argparse
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

# Run as `python benchmarks/<name>.py`: this folder is on the path.
from measure import percentile, server_cpu_seconds

PLACEHOLDER = re.compile(r"\{i(?:%(\d+))?(?:\+(\d+))?\}")
REFERENCE = "bankdesk"


def body_render(template: str, i: int) -> bytes:
    def value(match: re.Match[str]) -> str:
        modulus, offset = match.group(1), match.group(2)
        number = i % int(modulus) if modulus else i
        return str(number + int(offset or 0))

    return PLACEHOLDER.sub(value, template).encode()


class Tally:
    """What the clients saw, added up under one lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latencies_ms: list[float] = []
        self.statuses: Counter[int] = Counter()
        self.samples: list[str] = []

    def add(self, began: float, status: int, detail: str) -> None:
        elapsed_ms = (time.perf_counter() - began) * 1000
        with self.lock:
            self.statuses[status] += 1
            if 200 <= status < 300:
                self.latencies_ms.append(elapsed_ms)
            elif len(self.samples) < 3:
                self.samples.append(detail[:200])


def _send(http: httpx.Client, tally: Tally, method: str, url: str, body: bytes | None) -> str:
    """One request, timed and counted; the answer's text when it succeeded, else ''."""
    began = time.perf_counter()
    try:
        response = http.request(method, url, content=body)
    except httpx.HTTPError as exc:
        tally.add(began, 0, repr(exc))
        return ""
    tally.add(began, response.status_code, f"{response.status_code} {response.text}")
    return response.text if response.is_success else ""


def _client(auth: str, timeout: float) -> httpx.Client:
    return httpx.Client(
        headers={
            "Authorization": auth,
            "Accept": "application/json",
            "Content-Type": "application/json",
        },
        timeout=timeout,
    )


@dataclass(frozen=True)
class Timing:
    elapsed: float
    server_cpu: float | None
    client_cpu: float


def _run(clients: int, work: Callable[[int], None], server_pid: int | None) -> Timing:
    """`clients` threads running work(number) from one start: wall-clock and CPU seconds."""
    start = threading.Barrier(clients + 1)

    def thread_body(number: int) -> None:
        start.wait()
        work(number)

    threads = [threading.Thread(target=thread_body, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    server_before = server_cpu_seconds(server_pid) if server_pid else 0.0
    start.wait()
    began, client_before = time.perf_counter(), time.process_time()
    for thread in threads:
        thread.join()
    return Timing(
        elapsed=time.perf_counter() - began,
        server_cpu=server_cpu_seconds(server_pid) - server_before if server_pid else None,
        client_cpu=time.process_time() - client_before,
    )


def create(args: argparse.Namespace) -> dict[str, Any]:
    json.loads(body_render(args.body, 0))  # a template that is not JSON fails here, not n times
    tally = Tally()
    numbers = iter(range(args.n))
    numbers_lock = threading.Lock()

    def work(_number: int) -> None:
        with _client(args.auth, args.timeout) as http:
            while True:
                with numbers_lock:
                    i = next(numbers, None)
                if i is None:
                    return
                _send(http, tally, "POST", args.url, body_render(args.body, i))

    timing = _run(args.clients, work, args.server_pid)
    return _summary("create", tally, timing, args, {"n": args.n})


def list_pages(args: argparse.Namespace) -> dict[str, Any]:
    tally = Tally()
    page_items: list[int] = []
    with _client(args.auth, args.timeout) as http:
        first = http.get(args.url)  # warm-up, outside the figures
        if not first.is_success:
            raise SystemExit(f"list failed: {first.status_code} {first.text[:300]}")
    deadline = time.perf_counter() + args.seconds

    def work(_number: int) -> None:
        checked = False
        with _client(args.auth, args.timeout) as http:
            while time.perf_counter() < deadline:
                text = _send(http, tally, "GET", args.url, None)
                if text and not checked:
                    items = json.loads(text)[args.page_key]
                    with tally.lock:
                        page_items.append(len(items))
                    checked = True

    timing = _run(args.clients, work, args.server_pid)
    return _summary(
        "list", tally, timing, args, {"seconds": args.seconds, "page_items": page_items[:1]}
    )


def _summary(
    phase: str,
    tally: Tally,
    timing: Timing,
    args: argparse.Namespace,
    extra: dict[str, Any],
) -> dict[str, Any]:
    ok = len(tally.latencies_ms)
    requests = sum(tally.statuses.values())
    result: dict[str, Any] = dict(tag.split("=", 1) for tag in args.tag)
    result.update(
        {
            "phase": phase,
            "clients": args.clients,
            "requests": requests,
            "ok": ok,
            "errors": {
                str(status): count
                for status, count in sorted(tally.statuses.items())
                if not 200 <= status < 300
            },
            "error_samples": tally.samples,
            "elapsed_s": round(timing.elapsed, 2),
            "per_s": round(ok / timing.elapsed, 2) if timing.elapsed else 0.0,
            "p50_ms": round(percentile(tally.latencies_ms, 0.5), 1),
            "p99_ms": round(percentile(tally.latencies_ms, 0.99), 1),
            **extra,
        }
    )
    # The client shares the machine with the server: what it takes is not the server's.
    result["client_cpu_ms_per_request"] = round(timing.client_cpu * 1000 / max(requests, 1), 1)
    if timing.server_cpu is not None:
        result["server_cpu_ms_per_request"] = round(timing.server_cpu * 1000 / max(requests, 1), 1)
    return result


def show(result: dict[str, Any]) -> None:
    who = " ".join(str(result[key]) for key in ("system", "database", "rows") if key in result)
    cpu = result.get("server_cpu_ms_per_request")
    print(
        f"{who} {result['phase']}: {result['ok']}/{result['requests']} ok, "
        f"{result['per_s']}/s, p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms"
        + (f", server CPU {cpu} ms/request" if cpu is not None else "")
        + (
            f", errors {result['errors']} e.g. {result['error_samples']}"
            if result["errors"]
            else ""
        )
    )
    print("JSON " + json.dumps(result, ensure_ascii=False), flush=True)


FIGURES = [
    ("per_s", "create", "create cases/s"),
    ("p50_ms", "create", "create p50 ms"),
    ("p99_ms", "create", "create p99 ms"),
    ("server_cpu_ms_per_request", "create", "create server CPU ms/case"),
    ("per_s", "list", "list pages/s"),
    ("p50_ms", "list", "list p50 ms"),
    ("p99_ms", "list", "list p99 ms"),
    ("server_cpu_ms_per_request", "list", "list server CPU ms/page"),
]


def compare(args: argparse.Namespace) -> None:
    """Per database (and row count, for lists): bankdesk, the peer, and bankdesk/peer."""
    results = [
        json.loads(line[len("JSON ") :])
        for path in args.files
        for line in Path(path).read_text().splitlines()
        if line.startswith("JSON ")
    ]
    by_run = {(r.get("database"), r["phase"], r.get("rows"), r.get("system")): r for r in results}
    ratios: list[dict[str, Any]] = []
    print(f"{'database':<10} {'figure':<34} {'bankdesk':>10} {'peer':>10} {'bankdesk/peer':>14}")
    for database, phase, rows in dict.fromkeys(key[:3] for key in by_run):
        ours = by_run.get((database, phase, rows, REFERENCE))
        peers = [run for key, run in by_run.items() if key[:3] == (database, phase, rows)]
        peer = next((run for run in peers if run is not ours), None)
        if ours is None or peer is None:
            continue
        for key, figure_phase, label in FIGURES:
            if figure_phase != phase or ours.get(key) is None or peer.get(key) is None:
                continue
            ratio = round(ours[key] / peer[key], 2) if peer[key] else None
            name = f"{label} at {rows} rows" if phase == "list" else label
            print(f"{database:<10} {name:<34} {ours[key]:>10} {peer[key]:>10} {ratio!s:>14}")
            ratios.append(
                {
                    "database": database,
                    "figure": name,
                    "bankdesk": ours[key],
                    "peer": peer[key],
                    "ratio": ratio,
                }
            )
    print("(rates: above 1 is bankdesk faster; latencies and CPU: below 1 is bankdesk faster)")
    print("JSON " + json.dumps({"phase": "ratios", "ratios": ratios}))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("create", "list"):
        command = commands.add_parser(name)
        command.add_argument("--url", required=True, help="the full URL to POST to or GET")
        command.add_argument("--auth", required=True, help="the Authorization header's value")
        command.add_argument("--clients", type=int, default=16)
        command.add_argument("--timeout", type=float, default=900.0, help="per request, s")
        command.add_argument("--server-pid", type=int, help="the server, to count its CPU")
        command.add_argument("--tag", action="append", default=[], help="key=value for the JSON")
    commands.choices["create"].add_argument("--n", type=int, default=2000)
    commands.choices["create"].add_argument("--body", required=True, help="JSON template")
    commands.choices["list"].add_argument("--seconds", type=float, default=20.0)
    commands.choices["list"].add_argument("--page-key", default="items")
    commands.add_parser("compare").add_argument("files", nargs="+")
    args = parser.parse_args()
    if args.command == "compare":
        compare(args)
        return
    if args.clients < 1:
        parser.error("--clients must be at least 1")
    show(create(args) if args.command == "create" else list_pages(args))


if __name__ == "__main__":
    main()
