"""`bankdesk calendars seed`: the standard business calendars, safe to run again."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from bankdesk.sla.services import calendars_seed


class Command(BaseCommand):
    help = "Manage business calendars."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser(
            "seed", help="create cn-mainland, hk and 24x7 and refresh their published holidays"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        report = calendars_seed()
        self.stdout.write(
            f"{report.calendars_created} calendars created, {report.days_written} days written"
        )
