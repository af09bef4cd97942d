"""Load test: many clients creating cases at once against `bankdesk up`, counting every error.

    python benchmarks/cases_load.py                          # SQLite, 16 then 64 clients
    python benchmarks/cases_load.py --database-url postgres://postgres@127.0.0.1:5432/bench

Starts `bankdesk up --no-worker --no-smtp` on a fresh home (a small demo bank) and, for each
--clients figure, runs that many clients at once, each with its own keep-alive connection,
posting cases until --total are created between them. The database named by --database-url is
emptied first (its tables are dropped): give it one of its own. Prints one JSON line per run:
created per second, latency p50/p99, and the count of every non-201 answer by status (a 503
carries Retry-After and is counted, not retried), plus the server's CPU seconds per case.
Pass --url and --token to measure a server that is already running instead, or --src to run
another checkout's code (its `src` folder) side by side with this one.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

# Run as `python benchmarks/<name>.py`: this folder is on the path.
from measure import percentile, server_cpu_seconds

CHANNELS = ["phone", "app", "web_chat", "wechat", "email", "branch"]
SRC = Path(__file__).resolve().parent.parent / "src"


def _bankdesk(*args: str) -> list[str]:
    return [sys.executable, "-m", "bankdesk.config.cli", *args]


def _reset_database(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("DROP SCHEMA public CASCADE")
        connection.execute("CREATE SCHEMA public")


@contextmanager
def running_server(
    port: int, database_url: str | None, src: Path = SRC
) -> Iterator[tuple[str, str, int, dict[str, str]]]:
    """(base URL, supervisor token, server pid, its environment) of a fresh `bankdesk up`."""
    with tempfile.TemporaryDirectory() as home:
        # Limits far above the load: the limiter still counts every request, and refuses none.
        env = {
            **os.environ,
            "BANKDESK_HOME": home,
            "PYTHONPATH": str(src),
            "BANKDESK_RATE_LIMIT_TOKEN": "10000000/60",
            "BANKDESK_RATE_LIMIT_ADDRESS": "10000000/60",
        }
        env.pop("DATABASE_URL", None)
        if database_url:
            _reset_database(database_url)
            env["DATABASE_URL"] = database_url
        server = subprocess.Popen(  # noqa: S603 - bankdesk's own command, no outside input
            _bankdesk(
                "up",
                "--no-worker",
                "--no-smtp",
                "--port",
                str(port),
                "--demo-customers",
                "20",
                "--demo-cases",
                "50",
            ),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(Path(home) / "up.log", "wb"),  # noqa: SIM115 - kept for the server's life
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 300
            while True:
                try:
                    if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit((Path(home) / "up.log").read_text()[-3000:])
                time.sleep(0.5)
            token = subprocess.run(  # noqa: S603 - bankdesk's own command
                _bankdesk("token", "create", "--user", "supervisor", "--name", "load"),
                env=env,
                check=True,
                capture_output=True,
                text=True,
            ).stdout.strip()
            yield url, token, server.pid, env
        finally:
            server.terminate()
            server.wait(timeout=30)


def load(url: str, token: str, clients: int, total: int, pid: int | None) -> dict[str, object]:
    remaining = iter(range(total))
    lock = threading.Lock()
    statuses: Counter[int] = Counter()
    latencies: list[float] = []
    start = threading.Barrier(clients)

    def client(number: int) -> None:
        with httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60
        ) as http:
            start.wait()
            while True:
                with lock:
                    i = next(remaining, None)
                if i is None:
                    return
                began = time.perf_counter()
                try:
                    response = http.post(
                        "/api/v1/cases",
                        json={
                            "subject": f"压力测试工单 {number}-{i}",
                            "channel": CHANNELS[i % len(CHANNELS)],
                            "text": "客户反映手机银行转账失败，请协助查询。",
                        },
                    )
                    status = response.status_code
                except httpx.HTTPError:
                    status = 0  # the connection failed: counted as an error too
                with lock:
                    latencies.append((time.perf_counter() - began) * 1000)
                    statuses[status] += 1

    cpu_before = server_cpu_seconds(pid) if pid else None
    began = time.perf_counter()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    created = statuses.pop(201, 0)
    result: dict[str, object] = {
        "clients": clients,
        "requests": total,
        "created": created,
        "errors": {str(status): count for status, count in sorted(statuses.items())},
        "created_per_second": round(created / elapsed, 1),
        "p50_ms": round(percentile(latencies, 0.5), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
    }
    if pid and cpu_before is not None:
        result["server_cpu_ms_per_request"] = round(
            (server_cpu_seconds(pid) - cpu_before) * 1000 / max(total, 1), 1
        )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", help="PostgreSQL to run on (emptied first)")
    parser.add_argument("--port", type=int, default=18181)
    parser.add_argument("--url", help="an already running server (with --token)")
    parser.add_argument("--token")
    parser.add_argument("--clients", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--total", type=int, default=2000, help="cases per run")
    parser.add_argument("--src", type=Path, default=SRC, help="the code to run (a src folder)")
    args = parser.parse_args()

    def runs(url: str, token: str, pid: int | None) -> None:
        for clients in args.clients:
            result = load(url, token, clients, args.total, pid)
            result["database"] = "postgresql" if args.database_url else "sqlite"
            result["src"] = str(args.src)
            print(json.dumps(result), flush=True)

    if args.url:
        if not args.token:
            raise SystemExit("--url needs --token")
        runs(args.url, args.token, None)
        return
    with running_server(args.port, args.database_url, args.src.resolve()) as (url, token, pid, _):
        runs(url, token, pid)


if __name__ == "__main__":
    main()
