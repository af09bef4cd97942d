"""Server CPU and SQL statements per request, in process: what one operation costs bankdesk.

    python benchmarks/request_cpu.py                          # SQLite in a scratch home
    python benchmarks/request_cpu.py --database-url postgres://postgres@127.0.0.1:5432/bd_cpu
    python benchmarks/request_cpu.py --cases 20000 --iterations 300
    python benchmarks/request_cpu.py --profile create         # where one operation's time goes
    python benchmarks/request_cpu.py --database-url postgres://postgres@127.0.0.1:5432/bd_cpu \
        --scale-to 1000000 --only detail timeline list         # the demo bank copied to 1M cases
    python benchmarks/request_cpu.py --database-url postgres://postgres@127.0.0.1:5432/bd_cpu \
        --home /tmp/bd-1m --reuse --only queue_page      # measure again, no copying (same home)

Builds a demo bank (`--customers`, `--cases`) in a scratch BANKDESK_HOME (and, with
--database-url, in that PostgreSQL database, which is emptied first and left behind), then
drives each operation through Django's request handling with the test client, no HTTP: case
create, reply (through the outbox), status change, the first list page (25 cases, supervisor),
the case page, the customer timeline, an inbound e-mail, an inbound WeChat message and an
assistant hand-off; and the console's queue, case workspace, customer page and supervisor
floor. For each it prints the median and p90 of the process's CPU time per
request, the SQL statements one request runs and the Python function calls it makes (counted
under cProfile: the same on a busy machine, where CPU time is not). `--profile NAME` prints
where the CPU goes for that operation instead (cProfile, sorted by own and cumulative time).

`--scale-to N` (PostgreSQL) then copies the demo bank's cases, with their conversations,
messages, events and SLA clocks, in SQL until there are N cases. The copies keep their
customers (whose names are sealed to their rows and cannot be copied in SQL), so each demo
customer's history grows with the tables: the customer page is measured on a long history.
The copies are consistent by construction, so their foreign-key checks are skipped (PostgreSQL's
session_replication_role); `--reuse` measures again on the database and home a previous run
left (migrating them first), without building or copying anything.

Measures CPU (time.process_time), not wall time: a loaded machine slows the clock, not the count.
"""

from __future__ import annotations

import argparse
import cProfile
import itertools
import json
import os
import pstats
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from measure import percentile

WECHAT_TOKEN = "benchmark-wechat-token"  # noqa: S105 - a scratch installation's
OPERATIONS = [
    "create",
    "reply",
    "status",
    "list",
    "detail",
    "timeline",
    "email",
    "wechat",
    "handoff",
    # The console's pages, as a supervisor signed in with a second factor reads them.
    "queue_page",
    "queue_due_page",
    "case_page",
    "customer_page",
    "floor_page",
]


def _setup(args: argparse.Namespace) -> None:
    home = Path(args.home or tempfile.mkdtemp(prefix="bankdesk-cpu-"))
    os.environ["BANKDESK_HOME"] = str(home)
    os.environ.setdefault("BANKDESK_DEMO_PASSWORD", "benchmark password 2026")
    # Limits far above the run, so the rate limiter counts but never refuses.
    os.environ.update(
        {
            "BANKDESK_RATE_LIMIT_TOKEN": "100000000/60",
            "BANKDESK_RATE_LIMIT_ADDRESS": "100000000/60",
            "BANKDESK_WECHAT_TOKEN": WECHAT_TOKEN,
        }
    )
    os.environ["DJANGO_SETTINGS_MODULE"] = "bankdesk.config.settings"
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
        if not args.reuse:
            _empty_postgres(args.database_url)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if args.reuse:
        return
    call_command(
        "demo", customers=args.customers, cases=args.cases, seed=2026, no_progress=True, verbosity=0
    )
    if args.scale_to:
        if not args.database_url:
            raise SystemExit("--scale-to copies rows in PostgreSQL's SQL: give --database-url")
        _scale(args.scale_to)


def _scale(target_cases: int) -> None:
    """Copy the demo bank's cases until there are `target_cases`: copy g of a row gets
    id + g × (the table's largest id), its references to copied tables move the same way (those
    to customers stay), and its unique text gets a `~g` suffix."""
    from django.db import connection, models

    from bankdesk.sla.models import SlaClock, SlaClockPause
    from bankdesk.tickets.models import Case, CaseEvent, Conversation, InternalNote, Message

    tables: list[type[models.Model]] = [
        Case,
        Conversation,
        Message,
        CaseEvent,
        InternalNote,
        SlaClock,
        SlaClockPause,
    ]
    # Table and column names below come from the models, never from outside: S608 does not apply.
    with connection.cursor() as cursor:
        # Copies point only at copies made in the same run: skip the per-row foreign-key checks
        # (millions of trigger calls) for this connection, and restore them after.
        cursor.execute("SET session_replication_role = replica")
        stride = {}
        for model in tables:
            cursor.execute(f"SELECT coalesce(max(id), 0) FROM {model._meta.db_table}")  # noqa: S608
            stride[model] = cursor.fetchone()[0]
        cursor.execute(f"SELECT count(*) FROM {Case._meta.db_table}")  # noqa: S608
        copies = max(0, -(-target_cases // cursor.fetchone()[0]) - 1)
        for model in tables:
            unique = {
                name
                for constraint in model._meta.constraints
                if isinstance(constraint, models.UniqueConstraint)
                for name in constraint.fields
            }
            columns, values = [], []
            for field in model._meta.concrete_fields:
                column = field.column
                columns.append(column)
                target = field.related_model if field.is_relation else None
                if field.primary_key:
                    values.append(f"{column} + g * {stride[model]}")
                elif target in stride:
                    values.append(f"{column} + g * {stride[target]}")
                elif isinstance(field, models.CharField) and (field.unique or field.name in unique):
                    keep = field.max_length - 8
                    values.append(f"right({column}, {keep}) || '~' || g")
                else:
                    values.append(column)
            table = model._meta.db_table
            started = time.monotonic()
            into, select = ", ".join(columns), ", ".join(values)
            copy = f"INSERT INTO {table} ({into}) SELECT {select} FROM {table}, generate_series(1, %s) g"  # noqa: S608, E501
            cursor.execute(copy, [copies])
            added = cursor.rowcount
            renumber = f"SELECT setval(pg_get_serial_sequence(%s, 'id'), max(id)) FROM {table}"  # noqa: S608
            cursor.execute(renumber, [table])
            print(
                f"{table}: {added} rows added in {time.monotonic() - started:.0f} s",
                file=sys.stderr,
                flush=True,
            )
        cursor.execute("SET session_replication_role = DEFAULT")
        cursor.execute("ANALYZE")


def _empty_postgres(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")


class Bench:
    """The clients, the ids and the counters each operation needs."""

    def __init__(self) -> None:
        from django.test import Client

        from bankdesk.customers.models import Customer
        from bankdesk.intake.channels.wechat.protocol import signature_of
        from bankdesk.staff.models import User
        from bankdesk.staff.services import api_token_create

        self.supervisor = User.objects.get(username="supervisor")
        self.agent = User.objects.get(username="agent")
        self.client = Client(SERVER_NAME="127.0.0.1")
        token = api_token_create(user=self.supervisor, name="cpu benchmark").secret
        self.headers = {"Authorization": f"Bearer {token}"}
        self.customer = Customer.objects.filter(cases__isnull=False).order_by("pk").first()
        self.counter = itertools.count()
        self.signature_of = signature_of
        # The cases worked on: opened by e-mail, so a reply has an address to go to.
        self.cases = [self.email() for _ in range(100)]
        # Cases only the status change touches, each opened once so it can go back and forth.
        self.status_cases = [self.email() for _ in range(50)]
        for case_id in self.status_cases:
            self._json("post", f"/api/v1/cases/{case_id}/status", {"status": "open"})
        self.console = Client(SERVER_NAME="127.0.0.1")
        self._sign_in(self.console, self.supervisor)

    @staticmethod
    def _sign_in(client: Any, user: Any) -> None:
        """A console session with the second factor given, as the code page leaves it."""
        from django_otp import DEVICE_ID_SESSION_KEY
        from django_otp.plugins.otp_totp.models import TOTPDevice

        device, _ = TOTPDevice.objects.get_or_create(
            user=user, name="benchmark", defaults={"confirmed": True}
        )
        client.force_login(user)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()

    def _page(self, path: str) -> None:
        response = self.console.get(path)
        if response.status_code != 200:
            raise SystemExit(f"GET {path}: {response.status_code}")

    def queue_page(self) -> None:
        self._page("/cases/")

    def queue_due_page(self) -> None:
        self._page("/cases/?sort=due")

    def case_page(self) -> None:
        self._page(f"/cases/{self._case()}/")

    def customer_page(self) -> None:
        self._page(f"/customers/{self.customer.pk}/")

    def floor_page(self) -> None:
        self._page("/supervisor/")

    def _json(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        kwargs: dict[str, Any] = {"headers": self.headers}
        if body is not None:
            kwargs["data"] = json.dumps(body)
            kwargs["content_type"] = "application/json"
        response = getattr(self.client, method)(path, **kwargs)
        if response.status_code != status:
            raise SystemExit(
                f"{method.upper()} {path}: {response.status_code} {response.content!r}"
            )
        return response.json()

    def _case(self) -> int:
        return self.cases[next(self.counter) % len(self.cases)]

    def create(self) -> None:
        n = next(self.counter)
        self._json(
            "post",
            "/api/v1/cases",
            {
                "subject": f"手机银行转账失败 {n}",
                "channel": "app",
                "customer_id": self.customer.pk,
                "text": "客户反映手机银行转账失败，请协助查询。",
            },
            status=201,
        )

    def reply(self) -> None:
        self._json(
            "post",
            f"/api/v1/cases/{self._case()}/reply",
            {"text": "您好，我们已经收到您的问题，正在为您查询。"},
            status=201,
        )

    def status(self) -> None:
        """One change per call: each case goes to waiting-for-customer and back in turn."""
        n = next(self.counter)
        case_id = self.status_cases[(n // 2) % len(self.status_cases)]
        status = "pending_customer" if n % 2 == 0 else "open"
        self._json("post", f"/api/v1/cases/{case_id}/status", {"status": status})

    def list(self) -> None:
        self._json("get", "/api/v1/cases?limit=25")

    def detail(self) -> None:
        self._json("get", f"/api/v1/cases/{self._case()}")

    def timeline(self) -> None:
        self._json("get", f"/api/v1/customers/{self.customer.pk}/timeline")

    def email(self) -> int:
        from bankdesk.intake.channels.email.inbox import email_receive

        n = next(self.counter)
        raw = (
            f"From: cpu{n % 50}@example.cn\r\nTo: service@bank.example\r\n"
            f"Subject: =?utf-8?b?6L2s6LSm5aSx6LSl?= {n}\r\n"
            f"Message-ID: <cpu-{os.getpid()}-{n}@example.cn>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
            "您好：\n我昨天在手机银行转账，显示成功但对方没有收到，请帮我查询。\n"
        ).encode()
        result = email_receive(raw)
        assert result.case is not None
        return int(result.case.pk)

    def wechat(self) -> None:
        n = next(self.counter)
        stamp, nonce = str(int(time.time())), f"{os.getpid()}{n}"
        signature = self.signature_of(WECHAT_TOKEN, stamp, nonce)
        body = (
            f"<xml><ToUserName><![CDATA[gh_bank]]></ToUserName>"
            f"<FromUserName><![CDATA[openid-cpu-{n % 50}]]></FromUserName>"
            f"<CreateTime>{stamp}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[我的信用卡被盗刷了，转人工]]></Content>"
            f"<MsgId>{os.getpid()}{n:08d}</MsgId></xml>"
        ).encode()
        response = self.client.post(
            f"/intake/wechat/?signature={signature}&timestamp={stamp}&nonce={nonce}",
            data=body,
            content_type="text/xml",
        )
        if response.status_code != 200:
            raise SystemExit(f"wechat: {response.status_code} {response.content!r}")

    def handoff(self) -> None:
        self._json(
            "post",
            "/api/v1/assistant/reply",
            {"text": "我要投诉，转人工", "customer_id": self.customer.pk, "channel": "app"},
        )


def python_calls(operation: Callable[[], None], times: int = 10) -> int:
    """Python function calls one request makes: unlike CPU time, the same whatever else the
    machine is doing, so a change shows in it on a busy machine too."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(times):
        operation()
    profiler.disable()
    return int(pstats.Stats(profiler).total_calls) // times  # type: ignore[attr-defined]


def measure(operation: Callable[[], None], iterations: int) -> tuple[list[float], list[float], int]:
    """CPU ms and wall ms of each run (wall includes the database's own time), and the
    statements one run makes."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(5):
        operation()
    with CaptureQueriesContext(connection) as queries:
        operation()
    statements = len(queries.captured_queries)
    costs, walls = [], []
    for _ in range(iterations):
        started, wall = time.process_time(), time.perf_counter()
        operation()
        costs.append((time.process_time() - started) * 1000)
        walls.append((time.perf_counter() - wall) * 1000)
    return costs, walls, statements


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--home", default="", help="BANKDESK_HOME (default: a scratch folder)")
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--scale-to", type=int, default=0, help="cases, copied in SQL (PostgreSQL)")
    parser.add_argument(
        "--reuse", action="store_true", help="measure on the database and --home left before"
    )
    parser.add_argument("--only", nargs="*", choices=OPERATIONS, default=OPERATIONS)
    parser.add_argument("--profile", choices=OPERATIONS, default="")
    args = parser.parse_args()
    _setup(args)
    bench = Bench()
    if args.profile:
        operation = getattr(bench, args.profile)
        for _ in range(5):
            operation()
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.iterations):
            operation()
        profiler.disable()
        stats = pstats.Stats(profiler, stream=sys.stdout)
        stats.sort_stats("cumulative").print_stats(45)
        stats.sort_stats("tottime").print_stats(25)
        return
    database = "postgresql" if args.database_url else "sqlite"
    for name in args.only:
        costs, walls, statements = measure(getattr(bench, name), args.iterations)
        print(
            json.dumps(
                {
                    "operation": name,
                    "database": database,
                    "cases": args.scale_to or args.cases,
                    "cpu_ms_p50": round(percentile(costs, 0.5), 2),
                    "cpu_ms_p90": round(percentile(costs, 0.9), 2),
                    "wall_ms_p50": round(percentile(walls, 0.5), 2),
                    "wall_ms_p90": round(percentile(walls, 0.9), 2),
                    "statements": statements,
                    "python_calls": python_calls(getattr(bench, name)),
                    "iterations": args.iterations,
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
