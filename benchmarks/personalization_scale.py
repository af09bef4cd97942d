"""Personalised service at scale: a demo bank of N customers and M cases (its year includes the
monthly personalisation runs, timed as part of the build), then the hourly refresh over every
customer (timed, wall and CPU, three times), coverage for the quarter (timed) and the case
page's personalised-service panel for one customer (timed).

    BANKDESK_HOME=$(mktemp -d) python benchmarks/personalization_scale.py \\
      [--customers 10000] [--cases 50000]

Runs on the database the settings name (SQLite under BANKDESK_HOME by default; set
DATABASE_URL for PostgreSQL): never point it at a real one. Prints JSON lines.
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
from django.utils import timezone  # noqa: E402
from measure import say, timed  # noqa: E402

from bankdesk.analytics.periods import quarter_of, quarter_period  # noqa: E402
from bankdesk.customers.models import Customer  # noqa: E402
from bankdesk.demo.seed import demo_base_exists, demo_base_seed, demo_password  # noqa: E402
from bankdesk.demo.synthetic import demo_generate  # noqa: E402
from bankdesk.personalization.refresh import personalization_refresh  # noqa: E402
from bankdesk.personalization.selectors import coverage_at, personal_of  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--cases", type=int, default=50_000)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    if not demo_base_exists():
        demo_base_seed(password=demo_password()[0])
    _report, wall, cpu = timed(
        lambda: demo_generate(customers=args.customers, cases=args.cases, seed=2026, progress=False)
    )
    say(step="demo bank with a year of monthly personalisation", wall_s=wall, cpu_s=cpu)
    customers = Customer.objects.filter(is_provisional=False).count()
    for run in range(3):
        counts, wall, cpu = timed(personalization_refresh)
        say(
            step="refresh",
            run=run + 1,
            customers=customers,
            wall_s=wall,
            cpu_s=cpu,
            cpu_ms_per_1000_customers=round(1000 * cpu / max(customers, 1) * 1000, 1),
            memberships=counts.memberships,
            suggested=counts.suggested,
        )
    period = quarter_period(quarter_of(timezone.localdate()))
    coverage, wall, cpu = timed(lambda: coverage_at(period.until))
    say(
        step="coverage this quarter",
        value=coverage.value,
        covered=coverage.covered,
        active=coverage.active,
        wall_s=wall,
        cpu_s=cpu,
    )
    someone = Customer.objects.filter(is_provisional=False).order_by("?").first()
    _shown, wall, cpu = timed(lambda: personal_of(someone))
    say(step="the case page's panel", wall_ms=round(1000 * wall, 1), cpu_ms=round(1000 * cpu, 1))


if __name__ == "__main__":
    main()
