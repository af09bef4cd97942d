"""`bankdesk audit verify`: prove the audit chain unbroken, or name the first broken entry."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from bankdesk.security.audit import audit_verify


class Command(BaseCommand):
    help = "Verify the audit chain."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("verify", help="walk the chain; exit 1 at the first broken entry")

    def handle(self, *args: Any, **options: Any) -> None:
        report = audit_verify()
        if not report.is_intact:
            raise CommandError(
                f"audit chain broken at entry #{report.broken_at}: {report.problem} "
                f"({report.entries} entries read)"
            )
        self.stdout.write(f"audit chain intact: {report.entries} entries, head {report.head_hash}")
