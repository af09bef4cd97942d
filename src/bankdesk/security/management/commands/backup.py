"""`bankdesk backup create --out FILE | restore FILE [--force] | verify FILE`.

One sealed archive holds the database and the uploaded files. Keep it with the key it needs:
BANKDESK_BACKUP_KEY when set, else the data key file (`$BANKDESK_HOME/data_keys.json`).
"""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from bankdesk.security.backup import backup_create, backup_restore, backup_verify
from bankdesk.security.backup_archive import BackupError
from bankdesk.security.backup_manifest import BackupCheck
from bankdesk.security.crypto import KeyRingError


def _size(count: int) -> str:
    value = float(count)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:,.0f} {unit}" if unit == "bytes" else f"{value:,.1f} {unit}"
        value /= 1024
    return f"{count} bytes"  # not reached


class Command(BaseCommand):
    help = "Write, restore or verify an encrypted backup of the database and uploaded files."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="write a new backup")
        create.add_argument("--out", required=True, type=Path, help="the archive to write")
        restore = sub.add_parser(
            "restore", help="replace the database and uploads with a backup's (stop bankdesk first)"
        )
        restore.add_argument("file", type=Path)
        restore.add_argument(
            "--force",
            action="store_true",
            help="empty a database that holds data, and set existing uploads aside",
        )
        verify = sub.add_parser(
            "verify", help="restore into a scratch database and compare; changes nothing"
        )
        verify.add_argument("file", type=Path)
        for action in (create, restore, verify):
            action.add_argument("--no-progress", action="store_true", help="no progress bars")

    def handle(self, *args: Any, **options: Any) -> None:
        progress = self.stdout.isatty() and not options["no_progress"]
        try:
            if options["action"] == "create":
                self._create(options["out"], progress)
            elif options["action"] == "restore":
                self._restore(options["file"], options["force"], progress)
            else:
                self._verify(options["file"], progress)
        except BackupError as exc:
            raise CommandError(exc.message) from exc
        except KeyRingError as exc:  # missing or wrong data keys, or a value that won't decrypt
            raise CommandError(str(exc)) from exc

    def _create(self, out: Path, progress: bool) -> None:
        report = backup_create(out, progress=progress)
        manifest = report.manifest
        self.stdout.write(
            f"wrote {report.path} ({_size(report.size)}) in {report.seconds:.1f} s: "
            f"{manifest.rows:,} rows in {len(manifest.tables)} tables, "
            f"{manifest.media_files:,} uploaded files ({_size(manifest.media_bytes)}), "
            f"audit chain of {manifest.audit_entries:,} entries ending "
            f"{manifest.audit_head_hash[:16]}"
        )
        if manifest.audit_broken_at is not None:
            self.stderr.write(
                f"warning: the audit chain is broken at #{manifest.audit_broken_at} "
                f"({manifest.audit_problem}); the backup keeps it exactly as it is"
            )

    def _restore(self, path: Path, force: bool, progress: bool) -> None:
        report = backup_restore(path, force=force, progress=progress)
        manifest = report.check.manifest
        self.stdout.write(
            f"restored the backup of {manifest.created_at} (from {manifest.database_vendor}, "
            f"bankdesk {manifest.bankdesk_version}) in {report.seconds:.1f} s: "
            f"{manifest.rows:,} rows in {len(manifest.tables)} tables and "
            f"{manifest.media_files:,} uploaded files; row counts and the audit chain "
            f"({manifest.audit_entries:,} entries) match the backup"
        )
        if report.uploads_set_aside is not None:
            self.stdout.write(f"the uploads that were there are now in {report.uploads_set_aside}")
        self.stdout.write("everyone signs in again: sessions are not part of a backup")

    def _verify(self, path: Path, progress: bool) -> None:
        check = backup_verify(path, progress=progress)
        self._summary(check)
        problems = check.problems
        if problems:
            raise CommandError(
                f"{path} does not restore to what its manifest lists: " + "; ".join(problems)
            )
        self.stdout.write(self.style.SUCCESS(f"{path} restores completely"))

    def _summary(self, check: BackupCheck) -> None:
        manifest = check.manifest
        self.stdout.write(
            f"backup of {manifest.created_at} from {manifest.database_vendor}, "
            f"bankdesk {manifest.bankdesk_version}"
        )
        width = max(len(t.table) for t in check.tables) if check.tables else 10
        self.stdout.write(f"{'table':<{width}}  {'in backup':>10}  {'restored':>10}")
        for table in check.tables:
            mark = "" if table.found == table.expected else "  DIFFERS"
            self.stdout.write(
                f"{table.table:<{width}}  {table.expected:>10,}  {table.found:>10,}{mark}"
            )
        chain = check.audit
        state = "intact" if chain.is_intact else f"broken at #{chain.broken_at}: {chain.problem}"
        self.stdout.write(
            f"audit chain: {chain.entries:,} entries ending {chain.head_hash[:16]}, {state}"
        )
        self.stdout.write(f"uploads: {check.media_files:,} files, {_size(check.media_bytes)}")
