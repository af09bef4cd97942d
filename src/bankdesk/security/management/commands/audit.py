"""`bankdesk audit verify|checkpoint`: prove the audit chain whole, or seal its head now."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from bankdesk.security.audit import AuditKeyMismatch, ChainReport, audit_chain, audit_verify
from bankdesk.security.audit_checkpoints import (
    CHECKPOINT,
    RESTORE,
    CheckpointConflict,
    audit_checkpoint_write,
)
from bankdesk.security.audit_mac import audit_key


class Command(BaseCommand):
    help = "Verify the audit chain against its key and checkpoints, or write a checkpoint."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser(
            "verify",
            help="link entries still waiting, then walk the chain; exit 1 at the first broken "
            "entry or contradicted checkpoint",
        )
        checkpoint = sub.add_parser(
            "checkpoint",
            help="link entries still waiting, then append a signed checkpoint of the head to "
            "BANKDESK_AUDIT_CHECKPOINT_DIR",
        )
        checkpoint.add_argument(
            "--after-restore",
            action="store_true",
            help="record that the database was restored from a backup on purpose, when "
            "`backup restore` could not: earlier checkpoints counting entries the restore gave "
            "up stop binding the chain",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            audit_chain(wait=True)  # entries committed a moment ago are verified too
            if options["action"] == "checkpoint":
                self._checkpoint(after_restore=options["after_restore"])
            else:
                self._verify(audit_verify())
        except (AuditKeyMismatch, CheckpointConflict) as exc:
            raise CommandError(str(exc)) from exc

    def _checkpoint(self, *, after_restore: bool) -> None:
        checkpoint = audit_checkpoint_write(kind=RESTORE if after_restore else CHECKPOINT)
        if checkpoint is None:  # pragma: no cover - only the worker asks for "if moved"
            return
        what = "restore record" if after_restore else "checkpoint"
        self.stdout.write(
            f"{what} written to {checkpoint.source}: {checkpoint.sequence} entries, "
            f"head {checkpoint.head}"
        )

    def _verify(self, report: ChainReport) -> None:
        if not report.is_intact:
            where = f"at entry #{report.broken_at}: " if report.broken_at is not None else ": "
            raise CommandError(
                f"audit chain broken {where}{report.problem} ({report.entries} entries read)"
            )
        newest = report.newest_checkpoint
        against = (
            f"; held against {report.checkpoints} checkpoints, the newest counting "
            f"{newest.sequence} entries at "
            f"{timezone.localtime(newest.at):%Y-%m-%d %H:%M}"
            if newest is not None
            else "; no checkpoints yet (run `bankdesk audit checkpoint`, or the worker)"
        )
        waiting = f", {report.unchained} not yet chained" if report.unchained else ""
        self.stdout.write(
            f"audit chain intact: {report.entries} entries{waiting}, head {report.head_hash}"
            f", key {audit_key().fingerprint}{against}"
        )
