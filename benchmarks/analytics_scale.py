"""The indicators at scale, on PostgreSQL: a year of N cases (default 1,000,000) with their
event logs and 2 % of them complaints, written straight into a scratch database by SQL; then
a full rebuild of facts and rollups from the events (timed), every indicator for one quarter
from the rollups (timed, wall and CPU, whole centre and by agent), a refresh after a day's
worth of new events, and the drill-down of one number.

    createdb -h 127.0.0.1 -U postgres bench_analytics
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_analytics \\
      BANKDESK_HOME=$(mktemp -d) python benchmarks/analytics_scale.py [--cases 1000000]

The database is emptied of cases first: never point it at a real one. Prints JSON lines.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bankdesk.config.settings")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402
from measure import say, timed  # noqa: E402

from bankdesk.analytics.drill import drill_items  # noqa: E402
from bankdesk.analytics.kpis import kpis_compute  # noqa: E402
from bankdesk.analytics.models import CaseFact, Rollup  # noqa: E402
from bankdesk.analytics.periods import quarter_of, quarter_period  # noqa: E402
from bankdesk.analytics.rollups import rollups_rebuild, rollups_refresh  # noqa: E402
from bankdesk.staff.models import Team, User  # noqa: E402

TEAMS = 6
AGENTS = 60


def _people() -> tuple[list[int], list[int]]:
    teams = [
        Team.objects.get_or_create(code=f"bench-{n}", defaults={"name": f"服务组 {n}"})[0].pk
        for n in range(TEAMS)
    ]
    agents = []
    for n in range(AGENTS):
        user, _created = User.objects.get_or_create(
            username=f"bench_agent_{n}", defaults={"first_name": f"坐席{n:02d}"}
        )
        agents.append(user.pk)
    return teams, agents


def _generate(cases: int, teams: list[int], agents: list[int]) -> None:
    """Cases over the last 365 days; each: created, assigned, the customer's message, a reply,
    opened, resolved (97 %), 3 % of them reopened and resolved again; 2 % complaints."""
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE tickets_caseevent, complaints_complaint, analytics_casefact, "
            "analytics_rollup, tickets_case CASCADE"
        )
        cursor.execute(
            """
            CREATE TEMP TABLE bench AS
            SELECT n,
                   now() - (random() * interval '365 days') AS created,
                   (ARRAY['phone','web_chat','app','wechat','email','branch','alipay'])
                       [1 + floor(random() * 7)::int] AS channel,
                   %s::bigint[] AS teams, %s::bigint[] AS agents,
                   floor(random() * %s)::int AS team_at,
                   floor(random() * %s)::int AS agent_at,
                   random() * interval '6 hours' AS reply_after,
                   random() * interval '3 days' AS resolve_after,
                   random() AS fate
            FROM generate_series(1, %s) AS n
            """,
            [teams, agents, len(teams), len(agents), cases],
        )
        cursor.execute(
            """
            INSERT INTO tickets_case (id, number, subject, status, priority, channel, language,
                is_complaint, created_at, updated_at)
            SELECT n, 'B' || lpad(n::text, 10, '0'), '基准案例', CASE WHEN fate < 0.97 AND
                created + resolve_after < now() THEN 'resolved' ELSE 'open' END, 'normal',
                channel, 'zh-hans', fate > 0.98, created, created
            FROM bench
            """
        )
        events = [
            ("'created'", "created", "jsonb_build_object('channel', channel)", "NULL"),
            (
                "'assigned'",
                "created",
                "jsonb_build_object('team_id', teams[team_at + 1], "
                "'assignee_id', agents[agent_at + 1])",
                "NULL",
            ),
            ("'message_added'", "created", '\'{"direction": "inbound"}\'::jsonb', "NULL"),
            (
                "'status_changed'",
                "created + interval '1 minute'",
                '\'{"from": "new", "to": "open"}\'::jsonb',
                "NULL",
            ),
            (
                "'message_added'",
                "created + reply_after",
                '\'{"direction": "outbound"}\'::jsonb',
                "agents[agent_at + 1]",
            ),
        ]
        for kind, moment, data, actor in events:
            cursor.execute(
                f"INSERT INTO tickets_caseevent (case_id, kind, data, created_at, actor_id) "  # noqa: S608
                f"SELECT n, {kind}, {data}, {moment}, {actor} FROM bench"
            )
        resolved = "fate < 0.97 AND created + resolve_after < now()"
        cursor.execute(
            "INSERT INTO tickets_caseevent (case_id, kind, data, created_at) "  # noqa: S608
            'SELECT n, \'status_changed\', \'{"from": "open", "to": "resolved"}\'::jsonb, '
            f"created + resolve_after FROM bench WHERE {resolved}"
        )
        reopened = f"{resolved} AND fate < 0.03 AND created + 2 * resolve_after < now()"
        cursor.execute(
            "INSERT INTO tickets_caseevent (case_id, kind, data, created_at) "  # noqa: S608
            "SELECT n, kind, data::jsonb, created + resolve_after * k FROM bench, (VALUES "
            '(\'status_changed\', \'{"from": "resolved", "to": "open"}\', 1.5), '
            '(\'status_changed\', \'{"from": "open", "to": "resolved"}\', 2.0)) AS e(kind, '
            f"data, k) WHERE {reopened}"
        )
        cursor.execute(
            "INSERT INTO tickets_caseevent (case_id, kind, data, created_at) "
            "SELECT n, 'complaint_opened', '{}'::jsonb, created FROM bench WHERE fate > 0.98"
        )
        cursor.execute(
            """
            INSERT INTO complaints_complaint (case_id, status, channel, opened_on, received_at,
                regulator_forwarded, regulator_reference, demand, decision, remedy,
                customer_response, reopened, updated_at, company_response, source_reference,
                decided_at, closed_at)
            SELECT n, 'closed', channel, 'created', created, false, '', '', '', '', '', 0,
                created, '', '', created + resolve_after * 0.8, created + resolve_after
            FROM bench WHERE fate > 0.98 AND created + resolve_after < now()
            """
        )
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('tickets_case', 'id'), "
            "(SELECT max(id) FROM tickets_case))"
        )
        cursor.execute("ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="reuse the cases already generated")
    parser.add_argument(
        "--no-rebuild", action="store_true", help="with --keep: reuse the rollups as well"
    )
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("set DATABASE_URL to a scratch PostgreSQL database")
    call_command("migrate", verbosity=0)
    teams, agents = _people()
    if not args.keep:
        _result, wall, cpu = timed(lambda: _generate(args.cases, teams, agents))
        say(step="generate", cases=args.cases, wall_s=wall)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM tickets_caseevent")
        (events,) = cursor.fetchone()
    if args.no_rebuild:
        return _measure()
    outcome, wall, cpu = timed(rollups_rebuild)
    say(
        step="rebuild",
        cases=outcome["cases"],
        events=events,
        facts=CaseFact.objects.count(),
        rollup_rows=Rollup.objects.count(),
        days=outcome["days"],
        wall_s=wall,
        cpu_s=cpu,
    )
    _measure()


def _measure() -> None:
    quarter = quarter_of(timezone.localdate() - timezone.timedelta(days=92))
    period = quarter_period(quarter)
    for group_by in (None, "agent", "channel"):
        runs = []
        for _ in range(5):
            results, wall, cpu = timed(lambda g=group_by: kpis_compute(period, group_by=g))
            runs.append((wall, cpu))
        wall, cpu = sorted(runs)[len(runs) // 2]
        say(
            step="indicators",
            quarter=quarter,
            group_by=group_by,
            indicators=len(results),
            median_wall_s=wall,
            median_cpu_s=cpu,
            resolution_rate={
                r.kpi.code: [r.value.numerator, r.value.denominator]
                for r in results
                if r.kpi.code == "resolution_rate"
            },
        )
    items, wall, cpu = timed(
        lambda: drill_items("complaints_closed_24h", period, part="denominator")
    )
    say(step="drill", code="complaints_closed_24h", count=len(items), wall_s=wall, cpu_s=cpu)
    outcome, wall, cpu = timed(rollups_refresh)
    say(step="refresh_idle", **outcome, wall_s=wall, cpu_s=cpu)


if __name__ == "__main__":
    main()
