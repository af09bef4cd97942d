"""`bankdesk sla recompute|sweep`: apply changed policies to open cases; run one sweep now."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from bankdesk.lib.errors import BankdeskError
from bankdesk.sla.services import sla_clocks_recompute
from bankdesk.sla.sweep import sla_sweep
from bankdesk.tickets.choices import ACTIVE_STATUSES
from bankdesk.tickets.models import Case


class Command(BaseCommand):
    help = "SLA clocks: recompute open cases under the current policies, or sweep for breaches."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        recompute = sub.add_parser(
            "recompute",
            help="give open cases' clocks their policy's current terms (audited)",
        )
        recompute.add_argument("--reason", required=True, help="why; kept in the audit log")
        recompute.add_argument("--policy", help="only cases whose clocks come from this policy")
        recompute.add_argument(
            "--dry-run", action="store_true", help="count what would change, change nothing"
        )
        sub.add_parser("sweep", help="mark warnings and breaches due now and record escalations")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "sweep":
            swept = sla_sweep()
            self.stdout.write(
                f"{swept.warned} warned, {swept.breached} breached, "
                f"{swept.firings} escalations recorded"
            )
            return
        total = Case.objects.filter(status__in=sorted(ACTIVE_STATUSES)).count()
        with tqdm(total=total, unit="case", disable=None) as bar:
            try:
                report = sla_clocks_recompute(
                    actor=None,
                    reason=options["reason"],
                    policy_code=options["policy"],
                    dry_run=options["dry_run"],
                    progress=lambda done: _advance(bar, done),
                )
            except BankdeskError as exc:
                raise CommandError(str(exc)) from exc
        verb = "would change" if report.dry_run else "changed"
        self.stdout.write(f"{report.cases} open cases, {report.clocks_changed} clocks {verb}")


def _advance(bar: tqdm[Any], done: int) -> None:
    bar.update(done - bar.n)
