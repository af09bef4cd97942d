"""Load test: WeChat messages pushed at `bankdesk up` by many clients, then counted in the database.

    python benchmarks/wechat_load.py                          # SQLite, 2,000 messages, 16 clients
    python benchmarks/wechat_load.py --database-url postgres://postgres@127.0.0.1:5432/bench

Starts `bankdesk up --no-worker --no-smtp` on a fresh home (as cases_load.py does; the database
named by --database-url is emptied first) and has --clients clients push --messages signed
plain-mode text messages from --customers different OpenIDs to the official account's server URL,
as WeChat's servers do. Every --resend-th message is pushed a second time, byte for byte, as
WeChat resends a call it got no answer to. Then it counts, in the server's own database, the
WeChat messages this run left: each must be there exactly once. Prints one JSON line: accepted per
second, p50/p99 of one push, every non-200 answer by status, lost and duplicated messages, and
the server's CPU per push.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter

import httpx

# Run as `python benchmarks/<name>.py`: this folder is on the path.
from cases_load import running_server
from measure import percentile, server_cpu_seconds

from bankdesk.intake.channels.wechat.protocol import signature_of

TOKEN = "wechat-load-token"  # noqa: S105 - a scratch installation's
TEXTS = [
    "我的信用卡被盗刷了",
    "转账显示成功但对方没收到",
    "手机银行登不上去",
    "How do I raise my card limit?",
]

XML = {"Content-Type": "text/xml"}
COUNT = """
import django, json, sys
django.setup()
from django.db.models import Count
from bankdesk.tickets.models import Message
rows = Message.objects.filter(channel="wechat", external_id__startswith=sys.argv[1])
per_id = rows.values("external_id").annotate(n=Count("id"))
print(json.dumps({"ids": per_id.count(), "rows": rows.count()}))
"""


def push(run: str, number: int, customers: int) -> tuple[str, bytes]:
    """The query string and the body of message `number`, signed as WeChat signs it."""
    stamp, nonce = str(int(time.time())), f"{run}{number}"
    body = (
        "<xml><ToUserName><![CDATA[gh_bank]]></ToUserName>"
        f"<FromUserName><![CDATA[openid-{run}-{number % customers}]]></FromUserName>"
        f"<CreateTime>{stamp}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{TEXTS[number % len(TEXTS)]} {number}]]></Content>"
        f"<MsgId>{run}{number:09d}</MsgId></xml>"
    ).encode()
    signature = signature_of(TOKEN, stamp, nonce)
    return f"signature={signature}&timestamp={stamp}&nonce={nonce}", body


def load(url: str, args: argparse.Namespace, run: str, pid: int) -> dict[str, object]:
    # Every --resend-th message twice, the copy straight after the first.
    plan = [n for n in range(args.messages) for _ in range(2 if n % args.resend == 0 else 1)]
    remaining = iter(plan)
    signed: dict[int, tuple[str, bytes]] = {}
    lock = threading.Lock()
    statuses: Counter[int] = Counter()
    latencies: list[float] = []
    start = threading.Barrier(args.clients)

    def client() -> None:
        with httpx.Client(base_url=url, timeout=60) as http:
            start.wait()
            while True:
                with lock:
                    number = next(remaining, None)
                    if number is None:
                        return
                    query, body = signed.setdefault(number, push(run, number, args.customers))
                began = time.perf_counter()
                try:
                    response = http.post(f"/intake/wechat/?{query}", content=body, headers=XML)
                    status = response.status_code
                except httpx.HTTPError:
                    status = 0
                with lock:
                    latencies.append((time.perf_counter() - began) * 1000)
                    statuses[status] += 1

    cpu_before = server_cpu_seconds(pid)
    began = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(args.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    cpu = server_cpu_seconds(pid) - cpu_before
    accepted = statuses.pop(200, 0)
    return {
        "clients": args.clients,
        "pushes": len(plan),
        "messages": args.messages,
        "accepted": accepted,
        "errors": {str(status): count for status, count in sorted(statuses.items())},
        "accepted_per_second": round(accepted / elapsed, 1),
        "p50_ms": round(percentile(latencies, 0.5), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
        "server_cpu_ms_per_push": round(cpu * 1000 / len(plan), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", help="PostgreSQL to run on (emptied first)")
    parser.add_argument("--port", type=int, default=18182)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--customers", type=int, default=500, help="distinct OpenIDs")
    parser.add_argument("--resend", type=int, default=10, help="push every n-th message twice")
    args = parser.parse_args()
    os.environ["BANKDESK_WECHAT_TOKEN"] = TOKEN
    run = str(uuid.uuid4().int % 10**6)
    with running_server(args.port, args.database_url) as (url, _, pid, env):
        result = load(url, args, run, pid)
        counted = json.loads(
            subprocess.run(  # noqa: S603 - this benchmark's own script
                [sys.executable, "-c", COUNT, run],
                env={**env, "DJANGO_SETTINGS_MODULE": "bankdesk.config.settings"},
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )
    result["lost"] = args.messages - counted["ids"]
    result["duplicated"] = counted["rows"] - counted["ids"]
    result["database"] = "postgresql" if args.database_url else "sqlite"
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
