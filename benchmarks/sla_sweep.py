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
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

# Run as `python benchmarks/sla_sweep.py`: this folder is on the path.
from sweep_data import (
    DEFAULT_URL,
    SWEEP_AT,
    data_load,
    database_drop,
    database_name,
    database_prepare,
    django_start,
    loaded_cases,
    run,
    say,
    scalar,
)

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
