"""Benchmark the cases API against a running bankdesk: case creation rate and list latency.

    bankdesk up &                                   # or any running server
    TOKEN=$(bankdesk token create --user supervisor)
    python benchmarks/cases_api.py --token "$TOKEN" --create 2000 --pages 300

Prints one JSON line: cases created per second, and p50/p99 of list requests while paging
through the newest cases with next_cursor and through filtered lists (status, channel,
priority). Works the same on a database of any size, e.g. after `bankdesk demo --cases 1000000`.

Write throughput with many desks at once: `--clients 16` creates the cases from 16 concurrent
clients (each its own keep-alive connection) and reports the rate over the wall-clock time of
all of them; `--pages 0` skips the list timings. Raise the server's rate limits for the run, or
the token's limit answers 429 long before the database is the bottleneck:

    BANKDESK_RATE_LIMIT_TOKEN=1000000/60 BANKDESK_RATE_LIMIT_ADDRESS=1000000/60 \
        bankdesk up --no-worker --port 18731 &
    python benchmarks/cases_api.py --url http://127.0.0.1:18731 --token "$TOKEN" \
        --create 1600 --clients 16 --pages 0
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

# Run as `python benchmarks/<name>.py`: this folder is on the path.
from measure import percentile

CHANNELS = ["phone", "app", "web_chat", "wechat", "email", "branch"]


def create_cases(client: httpx.Client, count: int, rng: random.Random) -> None:
    for i in range(count):
        response = client.post(
            "/api/v1/cases",
            json={
                "subject": f"性能测试工单 {i}",
                "channel": rng.choice(CHANNELS),
                "priority": rng.choice(["low", "normal", "high"]),
                "text": "客户反映手机银行转账失败，请协助查询。",
            },
        )
        if response.status_code != 201:
            raise SystemExit(f"create failed: {response.status_code} {response.text}")


def create_concurrently(
    url: str, headers: dict[str, str], count: int, clients: int, seed: int
) -> float:
    """Cases per second when `clients` desks create `count` cases between them at once."""
    shares = [count // clients + (1 if n < count % clients else 0) for n in range(clients)]

    def one_client(n: int) -> None:
        with httpx.Client(base_url=url, headers=headers, timeout=120) as client:
            create_cases(client, shares[n], random.Random(seed * 1000 + n))

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        # list() re-raises the first client's failure here.
        list(pool.map(one_client, range(clients)))
    return count / (time.perf_counter() - started)


def timed_get(client: httpx.Client, params: dict[str, object]) -> tuple[float, dict]:
    started = time.perf_counter()
    response = client.get("/api/v1/cases", params=params)
    elapsed_ms = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"list failed: {response.status_code} {response.text}")
    return elapsed_ms, response.json()


def page_through(
    client: httpx.Client, pages: int, limit: int, extra: dict[str, object]
) -> list[float]:
    timings, cursor = [], None
    for _ in range(pages):
        params: dict[str, object] = {"limit": limit, **extra}
        if cursor:
            params["cursor"] = cursor
        elapsed, body = timed_get(client, params)
        timings.append(elapsed)
        cursor = body["next_cursor"]
        if cursor is None:
            break
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--token", required=True)
    parser.add_argument("--create", type=int, default=1000, help="cases to create")
    parser.add_argument(
        "--clients", type=int, default=1, help="concurrent clients creating the cases"
    )
    parser.add_argument("--pages", type=int, default=200, help="pages to walk per list")
    parser.add_argument("--limit", type=int, default=50, help="page size")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    headers = {"Authorization": f"Bearer {args.token}"}
    if args.clients < 1:
        parser.error("--clients must be at least 1")
    with httpx.Client(base_url=args.url, headers=headers, timeout=60) as client:
        client.get("/api/v1/cases", params={"limit": 1}).raise_for_status()  # warm up
        created_per_s = (
            create_concurrently(args.url, headers, args.create, args.clients, args.seed)
            if args.create
            else 0.0
        )
        if not args.pages:
            print(
                json.dumps(
                    {
                        "created": args.create,
                        "clients": args.clients,
                        "created_per_s": round(created_per_s, 1),
                    }
                )
            )
            return
        lists = {
            "newest": {},
            "status_open": {"status": "open"},
            "channel_wechat": {"channel": "wechat"},
            "priority_urgent": {"priority": "urgent"},
        }
        all_timings: list[float] = []
        per_list = {}
        for name, extra in lists.items():
            timings = page_through(client, args.pages, args.limit, extra)
            all_timings.extend(timings)
            per_list[name] = {
                "requests": len(timings),
                "p50_ms": round(statistics.median(timings), 2),
                "p99_ms": round(percentile(timings, 0.99), 2),
            }
    print(
        json.dumps(
            {
                "created": args.create,
                "clients": args.clients,
                "created_per_s": round(created_per_s, 1),
                "list_requests": len(all_timings),
                "list_p50_ms": round(statistics.median(all_timings), 2),
                "list_p99_ms": round(percentile(all_timings, 0.99), 2),
                "page_size": args.limit,
                "lists": per_list,
            }
        )
    )


if __name__ == "__main__":
    sys.exit(main())
