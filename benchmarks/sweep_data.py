"""The scratch database of benchmarks/sla_sweep.py: creating, migrating, loading and dropping it.

Loading is server-side SQL (INSERT … SELECT FROM generate_series) with foreign-key checks off
and the non-unique indexes dropped and rebuilt afterwards; only a database this benchmark
created (it carries MARKER as its comment) is ever loaded into or dropped.
"""

from __future__ import annotations

import os
import sys
import time
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
