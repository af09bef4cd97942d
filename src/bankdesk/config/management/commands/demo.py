"""`bankdesk demo`: build a synthetic bank (staff, customers, a year of cases) to try or measure."""

from __future__ import annotations

import time
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from bankdesk.analytics.rollups import rollups_rebuild
from bankdesk.demo.seed import demo_base_exists, demo_base_seed, demo_password
from bankdesk.demo.synthetic import MAX_CASES, MAX_CUSTOMERS, demo_generate
from bankdesk.demo.today import demo_today_seed
from bankdesk.lib.errors import BankdeskError


class Command(BaseCommand):
    help = (
        "Add synthetic customers and a year of their cases; creates the demo teams, case "
        "categories and staff logins first if they are missing."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--customers", type=int, default=500, help="customers to add (500)")
        parser.add_argument("--cases", type=int, default=5000, help="cases to add (5000)")
        parser.add_argument("--seed", type=int, default=2026, help="random seed (2026)")
        parser.add_argument(
            "--password",
            default="",
            help="password for the demo staff, used only when they are created "
            "(default: BANKDESK_DEMO_PASSWORD, else one is generated and shown)",
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        customers, cases, seed = options["customers"], options["cases"], options["seed"]
        if not 0 <= customers <= MAX_CUSTOMERS:
            raise CommandError(f"--customers must be between 0 and {MAX_CUSTOMERS:,}")
        if not 0 <= cases <= MAX_CASES:
            raise CommandError(f"--cases must be between 0 and {MAX_CASES:,}")
        if cases > 0 and customers == 0:
            raise CommandError("--cases needs customers to belong to: give --customers above 0")
        if seed < 0:
            raise CommandError("--seed must not be negative")
        started = time.monotonic()
        try:
            if not demo_base_exists():
                self._seed_base(options["password"])
            report = demo_generate(
                customers=customers, cases=cases, seed=seed, progress=not options["no_progress"]
            )
            today = demo_today_seed() if cases else 0
            rollups_rebuild()  # the dashboard counts the new history at once
        except BankdeskError as exc:
            raise CommandError(exc.message) from exc
        elapsed = time.monotonic() - started
        self.stdout.write(
            f"added {report.customers:,} customers ({report.identities:,} identities, "
            f"{report.holdings:,} holdings) and {report.cases:,} cases "
            f"({report.conversations:,} conversations, {report.messages:,} messages, "
            f"{report.events:,} events), {report.follow_ups:,} follow-ups and "
            f"{report.survey_answers:,} survey answers in {elapsed:.1f} s"
        )
        if today:
            self.stdout.write(f"opened {today} of today's cases, up to this minute")

    def _seed_base(self, password: str) -> None:
        generated = False
        if not password:
            password, generated = demo_password()
        demo_base_seed(password=password)
        self.stdout.write("created the demo teams, case categories and staff logins")
        if generated:
            self.stdout.write(
                f"demo staff password: {password}  (set BANKDESK_DEMO_PASSWORD to choose it)"
            )
