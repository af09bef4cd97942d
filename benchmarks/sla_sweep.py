"""Time the SLA breach sweep over a million open cases on PostgreSQL (aim: under 1 s).

Measures `bankdesk.sla.sweep.sla_sweep(now=...)`, the periodic job that notices warnings and
breaches: (a) a sweep with `--due` clocks reaching a threshold at the sweep moment (half of them
a warning, half a breach), repeated `--repeat` times, each time after putting the same clocks
back, so every repetition does the same work (min/median/max seconds, the SweepReport numbers,
clocks per second and how much of the time was SQL); (b) an empty sweep, nothing due: the
steady-state cost paid every minute; (c) EXPLAIN (ANALYZE, BUFFERS) of the query that picks the
due clocks, to show the partial index `sla_clock_next_check` at work.

Data: a scratch PostgreSQL database, created if missing and migrated, loaded with server-side
SQL (INSERT … SELECT FROM generate_series): one SLA policy with a first-response target (breach
→ raise priority) and a resolution target warning at 80 % (warning → notify a supervisor, breach
→ raise priority), `--cases` open phone cases (number 'B000000001'…) and two running clocks per
case whose next checks are spread over the 30 days after the sweep moment, except the `--due`
ones at or before it. The sweep runs as in production, including the background task it
enqueues on commit. The database is dropped at the end unless `--keep`.

    python benchmarks/sla_sweep.py                          # 1,000,000 cases, 1,000 due
    python benchmarks/sla_sweep.py --due 10000 --keep       # keep the loaded database
    python benchmarks/sla_sweep.py --due 1000 --reuse       # skip the load: reuse a kept one
    python benchmarks/sla_sweep.py --cases 20000 --statements   # small, with statement timings

Prints progress and the plan as text, then one JSON line with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

if TYPE_CHECKING:
    from django.db.backends.utils import CursorWrapper

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/bankdesk_sweep_bench"
# Written on the database when this script creates it; it only ever loads into, or drops, a
# database that carries it.
MARKER = "bankdesk benchmarks/sla_sweep.py scratch database"
POLICY_CODE = "bench-sla-sweep"
# The sweep moment: a Monday, 10:00 in Shanghai. Fixed, so a kept database can be reused.
SWEEP_AT = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)

# Where each clock stands when nothing is due, as SQL functions of a case number n (1…cases) and
# the sweep moment, kept in the scratch database. Clock ids are 2n-1 (first response) and 2n
# (resolution), so a due set is picked by primary key.
SPREAD_FUNCTIONS = """
CREATE OR REPLACE FUNCTION bench_case_created(at timestamptz, n bigint) RETURNS timestamptz
    STABLE LANGUAGE sql AS $$ SELECT at - interval '1 second' * (1 + mod(n * 104729, 2592000)) $$;
CREATE OR REPLACE FUNCTION bench_first_due(at timestamptz, n bigint) RETURNS timestamptz
    STABLE LANGUAGE sql AS $$ SELECT at + interval '1 second' * (1 + mod(n * 7919, 2591999)) $$;
CREATE OR REPLACE FUNCTION bench_resolution_warn(at timestamptz, n bigint) RETURNS timestamptz
    STABLE LANGUAGE sql
    AS $$ SELECT at + interval '1 second' * (1 + mod(n * 6007 + 12345, 2591999)) $$;
"""
# The resolution target: 10 days in calendar minutes, warning at 80 %, so due 2 days after the
# warning. The columns the loader fills: a NOT NULL column added to a model stops the load.
CASE_COLUMNS = frozenset(
    {
        "id",
        "number",
        "subject",
        "status",
        "priority",
        "channel",
        "language",
        "is_complaint",
        "created_at",
        "updated_at",
    }
)
CLOCK_COLUMNS = frozenset(
    {
        "id",
        "case_id",
        "target_id",
        "cycle",
        "name",
        "metric",
        "minutes",
        "basis",
        "warning_percent",
        "pause_statuses",
        "status",
        "started_at",
        "consumed",
        "due_at",
        "warn_at",
        "warned_at",
        "breached_at",
        "next_check_at",
        "updated_at",
    }
)


def say(text: str) -> None:
    print(text, flush=True)


# -- the scratch database -----------------------------------------------------------------------


def admin_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/postgres"))


def database_name(url: str) -> str:
    name = urlsplit(url).path.lstrip("/")
    if not name or name == "postgres":
        sys.exit(f"--database-url must name a scratch database, not {name or 'none'}")
    return name


def database_prepare(url: str) -> bool:
    """Create the database if missing; refuse one this script did not create. True if created."""
    name = database_name(url)
    with psycopg.connect(admin_url(url), autocommit=True) as admin:
        row = admin.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            [name],
        ).fetchone()
        if row is not None:
            if row[0] != MARKER:
                sys.exit(
                    f"database {name} exists and was not created by this benchmark; "
                    "pass another --database-url"
                )
            return False
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        admin.execute(
            sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                sql.Identifier(name), sql.Literal(MARKER)
            )
        )
    return True


def database_drop(url: str) -> None:
    from django.db import connections

    connections.close_all()
    name = database_name(url)
    with psycopg.connect(admin_url(url), autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def django_start(url: str, home: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["BANKDESK_HOME"] = home
    os.environ["DJANGO_SETTINGS_MODULE"] = "bankdesk.config.settings"
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(SPREAD_FUNCTIONS)


# -- loading ------------------------------------------------------------------------------------


def run(cursor: CursorWrapper, statement: str, params: dict[str, Any] | None = None) -> int:
    cursor.execute(statement, params)
    return cursor.rowcount


def scalar(statement: str, params: dict[str, Any] | None = None) -> Any:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        row = cursor.fetchone()
    return None if row is None else row[0]


def columns_unfilled(table: str, filled: frozenset[str]) -> list[str]:
    """NOT NULL columns without a default that the loader does not fill: a model changed."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s"
            " AND is_nullable = 'NO' AND column_default IS NULL AND is_identity = 'NO'",
            [table],
        )
        return sorted(name for (name,) in cursor.fetchall() if name not in filled)


def loaded_cases() -> int | None:
    """How many benchmark cases the database holds; None if it holds no benchmark data."""
    from bankdesk.sla.models import SlaPolicy
    from bankdesk.tickets.models import Case

    if not SlaPolicy.objects.filter(code=POLICY_CODE).exists():
        return None
    return Case.objects.count()


def policy_create() -> tuple[int, int]:
    """The policy, its two targets and their escalations; returns the two target ids."""
    from bankdesk.sla.choices import EscalationAction, Metric, Threshold, TimeBasis
    from bankdesk.sla.models import SlaEscalation, SlaPolicy, SlaTarget

    policy = SlaPolicy.objects.create(code=POLICY_CODE, name="基准测试服务水平", position=1)
    first = SlaTarget.objects.create(
        policy=policy,
        name="首次响应",
        metric=Metric.FIRST_RESPONSE,
        minutes=240,
        basis=TimeBasis.CALENDAR,
    )
    resolution = SlaTarget.objects.create(
        policy=policy,
        name="解决",
        metric=Metric.RESOLUTION,
        minutes=14_400,
        basis=TimeBasis.CALENDAR,
        warning_percent=80,
    )
    SlaEscalation.objects.bulk_create(
        [
            SlaEscalation(
                target=first, threshold=Threshold.BREACH, action=EscalationAction.RAISE_PRIORITY
            ),
            SlaEscalation(
                target=resolution,
                threshold=Threshold.WARNING,
                action=EscalationAction.NOTIFY_SUPERVISOR,
            ),
            SlaEscalation(
                target=resolution,
                threshold=Threshold.BREACH,
                action=EscalationAction.RAISE_PRIORITY,
            ),
        ]
    )
    return first.pk, resolution.pk


def data_load(cases: int) -> dict[str, float]:
    """Wipe any earlier benchmark data and load the cases and clocks; returns step timings."""
    from django.db import connection, transaction

    for table, filled in (("tickets_case", CASE_COLUMNS), ("sla_slaclock", CLOCK_COLUMNS)):
        missing = columns_unfilled(table, filled)
        if missing:
            sys.exit(f"{table} has NOT NULL columns this loader does not fill: {missing}")
    timings: dict[str, float] = {}
    params: dict[str, Any] = {"at": SWEEP_AT, "cases": cases}
    with transaction.atomic(), connection.cursor() as cursor:
        began = time.perf_counter()
        run(cursor, "TRUNCATE tickets_case, sla_slapolicy RESTART IDENTITY CASCADE")
        # The rows are built consistent; skipping the deferred foreign-key triggers for 3M rows
        # only saves load time (the session is a superuser's, as a scratch database's is).
        run(cursor, "SET LOCAL session_replication_role = replica")
        run(cursor, "SET LOCAL maintenance_work_mem = '256MB'")
        params["first"], params["resolution"] = policy_create()
        # Maintaining a dozen indexes row by row makes the load minutes slower than building
        # them afterwards; the indexes behind constraints (primary keys, unique) stay.
        cursor.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index"
            " WHERE indrelid IN ('tickets_case'::regclass, 'sla_slaclock'::regclass)"
            " AND NOT EXISTS (SELECT FROM pg_constraint WHERE conindid = indexrelid"
            " AND contype IN ('p', 'u', 'x'))"
        )
        set_aside = cursor.fetchall()
        for name, _ in set_aside:
            run(cursor, f"DROP INDEX {name}")  # a regclass name, quoted by PostgreSQL
        run(
            cursor,
            "INSERT INTO tickets_case (id, number, subject, status, priority, channel, language,"
            " is_complaint, created_at, updated_at)"
            " SELECT n, 'B' || lpad(n::text, 9, '0'), '基准测试工单 ' || n, 'open', 'normal',"
            " 'phone', 'zh-hans', false, bench_case_created(%(at)s, n),"
            " bench_case_created(%(at)s, n)"
            " FROM generate_series(1, %(cases)s) AS n",
            params,
        )
        run(
            cursor,
            "SELECT setval(pg_get_serial_sequence('tickets_case', 'id'), %(cases)s)",
            params,
        )
        timings["cases_seconds"] = time.perf_counter() - began
        began = time.perf_counter()
        run(
            cursor,
            "INSERT INTO sla_slaclock (id, case_id, target_id, cycle, name, metric, minutes,"
            " basis, warning_percent, pause_statuses, status, started_at, consumed, due_at,"
            " warn_at, warned_at, breached_at, next_check_at, updated_at)"
            " SELECT 2 * n - 1, n, %(first)s, 0, '首次响应', 'first_response', 240, 'calendar',"
            " NULL::smallint, '[]'::jsonb, 'running', bench_case_created(%(at)s, n),"
            " interval '0', bench_first_due(%(at)s, n), NULL::timestamptz, NULL::timestamptz,"
            " NULL::timestamptz, bench_first_due(%(at)s, n), %(at)s"
            " FROM generate_series(1, %(cases)s) AS n"
            " UNION ALL"
            " SELECT 2 * n, n, %(resolution)s, 0, '解决', 'resolution', 14400, 'calendar', 80,"
            " '[]'::jsonb, 'running', bench_case_created(%(at)s, n), interval '0',"
            " bench_resolution_warn(%(at)s, n) + interval '2 days',"
            " bench_resolution_warn(%(at)s, n), NULL, NULL, bench_resolution_warn(%(at)s, n),"
            " %(at)s FROM generate_series(1, %(cases)s) AS n",
            params,
        )
        run(
            cursor,
            "SELECT setval(pg_get_serial_sequence('sla_slaclock', 'id'), 2 * %(cases)s)",
            params,
        )
        timings["clocks_seconds"] = time.perf_counter() - began
        began = time.perf_counter()
        for _, definition in set_aside:
            run(cursor, definition)
        timings["indexes_seconds"] = time.perf_counter() - began
    began = time.perf_counter()
    with connection.cursor() as cursor:
        run(cursor, "VACUUM ANALYZE tickets_case, sla_slaclock")
    timings["vacuum_analyze_seconds"] = time.perf_counter() - began
    return timings


# -- one repetition's starting point ------------------------------------------------------------


@dataclass(frozen=True)
class DueSet:
    """Which clocks are due at the sweep moment: first-response clocks of every stride-th case
    breach, resolution clocks of other cases reach their warning."""

    cases: int
    breach: int
    warning: int

    @classmethod
    def of(cls, cases: int, due: int) -> DueSet:
        breach = due // 2
        return cls(cases=cases, breach=breach, warning=due - breach)

    def params(self) -> dict[str, Any]:
        return {
            "at": SWEEP_AT,
            "breach": self.breach,
            "breach_stride": self.cases // max(self.breach, 1),
            "warning": self.warning,
            "warning_stride": self.cases // max(self.warning, 1),
        }


def clocks_arrange(due: DueSet) -> None:
    """Put every clock an earlier sweep or arrangement touched back on its spread, make the due
    set due, forget the firings and queued tasks, and vacuum: each repetition starts alike."""
    from django.db import connection, transaction
    from django_tasks_db.models import DBTaskResult

    params = due.params()
    with transaction.atomic(), connection.cursor() as cursor:
        run(
            cursor,
            "UPDATE sla_slaclock SET"
            " due_at = CASE metric WHEN 'first_response' THEN bench_first_due(%(at)s, case_id)"
            " ELSE bench_resolution_warn(%(at)s, case_id) + interval '2 days' END,"
            " warn_at = CASE metric WHEN 'first_response' THEN NULL"
            " ELSE bench_resolution_warn(%(at)s, case_id) END,"
            " next_check_at = CASE metric"
            " WHEN 'first_response' THEN bench_first_due(%(at)s, case_id)"
            " ELSE bench_resolution_warn(%(at)s, case_id) END,"
            " warned_at = NULL, breached_at = NULL, updated_at = %(at)s"
            " WHERE warned_at IS NOT NULL OR breached_at IS NOT NULL OR next_check_at IS NULL"
            " OR next_check_at <= %(at)s",
            params,
        )
        # Breach: due up to an hour before the moment, or at it.
        run(
            cursor,
            "UPDATE sla_slaclock SET due_at = %(at)s - interval '1 second' * mod(id, 3600),"
            " next_check_at = %(at)s - interval '1 second' * mod(id, 3600)"
            " WHERE id IN (SELECT 2 * (1 + k * %(breach_stride)s) - 1"
            " FROM generate_series(0, %(breach)s - 1) AS k)",
            params,
        )
        # Warning: reached up to an hour before the moment, due two days after it was reached.
        run(
            cursor,
            "UPDATE sla_slaclock SET warn_at = %(at)s - interval '1 second' * mod(id, 3600),"
            " next_check_at = %(at)s - interval '1 second' * mod(id, 3600),"
            " due_at = %(at)s - interval '1 second' * mod(id, 3600) + interval '2 days'"
            " WHERE id IN (SELECT 2 * (1 + %(warning_stride)s / 2 + k * %(warning_stride)s)"
            " FROM generate_series(0, %(warning)s - 1) AS k)",
            params,
        )
        run(cursor, "DELETE FROM sla_slafiring")
        DBTaskResult.objects.all().delete()
    with connection.cursor() as cursor:
        run(cursor, "VACUUM ANALYZE sla_slaclock, sla_slafiring")


# -- measuring ----------------------------------------------------------------------------------


@dataclass
class StatementTimer:
    """A Django execute wrapper: the wall time of every statement sent while installed."""

    statements: list[tuple[float, str]] = field(default_factory=list)

    def __call__(
        self,
        execute: Callable[[str, Any, bool, dict[str, Any]], Any],
        statement: str,
        params: Any,
        many: bool,
        context: dict[str, Any],
    ) -> Any:
        began = time.perf_counter()
        try:
            return execute(statement, params, many, context)
        finally:
            self.statements.append((time.perf_counter() - began, statement))

    @property
    def seconds(self) -> float:
        return sum(seconds for seconds, _ in self.statements)


@contextmanager
def statements_timed() -> Iterator[StatementTimer]:
    from django.db import connection

    timer = StatementTimer()
    with connection.execute_wrapper(timer):
        yield timer


@dataclass(frozen=True)
class Sweep:
    seconds: float
    sql_seconds: float
    warned: int
    breached: int
    firings: int
    statements: list[tuple[float, str]]


def sweep_timed() -> Sweep:
    from bankdesk.sla.sweep import sla_sweep

    with statements_timed() as timer:
        began = time.perf_counter()
        report = sla_sweep(now=SWEEP_AT)
        seconds = time.perf_counter() - began
    return Sweep(
        seconds=seconds,
        sql_seconds=timer.seconds,
        warned=report.warned,
        breached=report.breached,
        firings=report.firings,
        statements=timer.statements,
    )


def spread(values: list[float]) -> dict[str, float]:
    return {
        "min": round(min(values), 4),
        "median": round(statistics.median(values), 4),
        "max": round(max(values), 4),
    }


def queued_tasks() -> int:
    from django_tasks_db.models import DBTaskResult

    return int(DBTaskResult.objects.count())


def plan_of_selection(batch: int) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of the sweep's selecting query (the same queryset as in
    sweep.py), rolled back so the locks it takes go."""
    from django.db import connection, transaction

    from bankdesk.sla.choices import ClockStatus
    from bankdesk.sla.models import SlaClock

    queryset = (
        SlaClock.objects.select_for_update(skip_locked=True)
        .filter(status=ClockStatus.RUNNING, next_check_at__lte=SWEEP_AT)
        .order_by("next_check_at")
        .values_list("pk", "target_id", "warn_at", "due_at", "warned_at")[:batch]
    )
    with transaction.atomic(), connection.cursor() as cursor:
        statement, params = queryset.query.sql_with_params()
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {statement}", params)
        lines = [line for (line,) in cursor.fetchall()]
        transaction.set_rollback(True)
    return lines


def statements_print(statements: list[tuple[float, str]]) -> None:
    say("  statements of the last repetition (ms, SQL):")
    for seconds, statement in statements:
        say(f"    {seconds * 1000:9.2f}  {statement[:150]}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=DEFAULT_URL, help="a scratch database")
    parser.add_argument("--cases", type=int, default=1_000_000, help="open cases to load")
    parser.add_argument("--due", type=int, default=1_000, help="clocks due at the sweep moment")
    parser.add_argument("--repeat", type=int, default=3, help="timed sweeps of each kind")
    parser.add_argument("--keep", action="store_true", help="do not drop the database after")
    parser.add_argument(
        "--reuse", action="store_true", help="skip the load if the database holds --cases cases"
    )
    parser.add_argument(
        "--statements", action="store_true", help="print each statement of the last sweep"
    )
    args = parser.parse_args()
    if args.cases < 1 or not 2 <= args.due <= args.cases or args.repeat < 1:
        parser.error("need --cases ≥ 1, 2 ≤ --due ≤ --cases and --repeat ≥ 1")
    url = args.database_url
    created = database_prepare(url)
    with tempfile.TemporaryDirectory(prefix="bankdesk-bench-") as home:
        try:
            figures = benchmark(args, url, home, created)
        finally:
            if not args.keep:
                database_drop(url)
                say(f"dropped database {database_name(url)}")
    print(json.dumps(figures, ensure_ascii=False))


def benchmark(args: argparse.Namespace, url: str, home: str, created: bool) -> dict[str, Any]:
    began = time.perf_counter()
    django_start(url, home)
    say(
        f"database {database_name(url)} ({'created' if created else 'existing'}), migrated in "
        f"{time.perf_counter() - began:.1f} s"
    )
    from django.conf import settings

    import bankdesk.sla.tasks  # noqa: F401  the worker has it imported; keep it out of the timing
    from bankdesk.sla.sweep import SWEEP_BATCH

    assert not settings.DEBUG, "DEBUG would record every query"
    figures: dict[str, Any] = {"benchmark": "sla_sweep", "cases": args.cases, "due": args.due}
    if args.reuse and loaded_cases() == args.cases:
        say(f"reusing the {args.cases:,} cases already loaded")
        figures["load"] = None
    else:
        began = time.perf_counter()
        steps = data_load(args.cases)
        total = time.perf_counter() - began
        figures["load"] = {"seconds": round(total, 2)} | {
            name: round(value, 2) for name, value in steps.items()
        }
        say(
            f"loaded in {total:.1f} s (cases {steps['cases_seconds']:.1f} s, clocks "
            f"{steps['clocks_seconds']:.1f} s, {steps['indexes_seconds']:.1f} s "
            f"to build the indexes, vacuum analyze "
            f"{steps['vacuum_analyze_seconds']:.1f} s)"
        )
    counts = {
        "cases": scalar("SELECT count(*) FROM tickets_case"),
        "clocks": scalar("SELECT count(*) FROM sla_slaclock"),
        "clocks_checked": scalar(
            "SELECT count(*) FROM sla_slaclock"
            " WHERE status = 'running' AND next_check_at IS NOT NULL"
        ),
        "clock_table_mb": round(scalar("SELECT pg_total_relation_size('sla_slaclock')") / 2**20),
        "partial_index_mb": round(
            scalar("SELECT pg_relation_size('sla_clock_next_check')") / 2**20
        ),
    }
    figures["rows"] = counts
    say(
        f"rows: {counts['cases']:,} cases, {counts['clocks']:,} clocks "
        f"({counts['clocks_checked']:,} in the partial index, {counts['partial_index_mb']} MB; "
        f"clock table with indexes {counts['clock_table_mb']} MB)"
    )

    due = DueSet.of(args.cases, args.due)
    sweeps: list[Sweep] = []
    for _ in range(args.repeat):
        clocks_arrange(due)
        sweeps.append(sweep_timed())
        tasks = queued_tasks()
        last = sweeps[-1]
        if (last.warned, last.breached, last.firings) != (due.warning, due.breach, args.due):
            sys.exit(f"the sweep did other work than arranged: {last}")
        say(
            f"sweep: {last.seconds:.3f} s (SQL {last.sql_seconds:.3f} s), warned {last.warned}, "
            f"breached {last.breached}, firings {last.firings}, tasks queued {tasks}"
        )
    seconds = [one.seconds for one in sweeps]
    figures["sweep"] = {
        "seconds": spread(seconds),
        "sql_seconds": spread([one.sql_seconds for one in sweeps]),
        "warned": sweeps[-1].warned,
        "breached": sweeps[-1].breached,
        "firings": sweeps[-1].firings,
        "statements": len(sweeps[-1].statements),
        "clocks_per_second": round(args.due / statistics.median(seconds)),
    }
    if args.statements:
        statements_print(sweeps[-1].statements)

    empties = [sweep_timed() for _ in range(args.repeat)]
    if any(one.warned or one.breached for one in empties):
        sys.exit("the empty sweep found clocks due")
    figures["empty_sweep"] = {"seconds": spread([one.seconds for one in empties])}
    say(f"empty sweep: {', '.join(f'{one.seconds * 1000:.2f} ms' for one in empties)}")

    clocks_arrange(due)
    plan = plan_of_selection(SWEEP_BATCH)
    say(f"plan of the selecting query, {args.due} due, LIMIT {SWEEP_BATCH}:")
    for line in plan:
        say(f"  {line}")
    figures["plan_uses_partial_index"] = any("sla_clock_next_check" in line for line in plan)
    figures["plan_execution_ms"] = next(
        (float(line.split()[2]) for line in plan if line.startswith("Execution Time")), None
    )
    return figures


if __name__ == "__main__":
    main()
