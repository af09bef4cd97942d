"""`bankdesk calendars seed|status|load-notice`: the standard business calendars, how far each
one's holidays are known, and a year's official holiday notice loaded from a file."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from bankdesk.lib.errors import BankdeskError
from bankdesk.sla.notices import MAX_BYTES, notice_parse
from bankdesk.sla.selectors import calendar_get, calendar_horizon_warnings, calendar_list
from bankdesk.sla.services import calendar_notice_load, calendars_seed, sla_clocks_recompute


class Command(BaseCommand):
    help = "Manage business calendars."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser(
            "seed", help="create cn-mainland, hk and 24x7 and refresh their published holidays"
        )
        sub.add_parser("status", help="how far each calendar's holidays are known")
        load = sub.add_parser(
            "load-notice",
            help="load a year's official holiday notice from a CSV file (docs/calendars.md) "
            "and work open cases' clocks out again (audited)",
        )
        load.add_argument("--calendar", required=True, help="calendar code, e.g. cn-mainland")
        load.add_argument("--year", required=True, type=int, help="the year the notice is for")
        load.add_argument("file", type=Path, help="date,kind,name_zh,name_en (UTF-8 CSV)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "status":
            self._status()
        elif options["action"] == "load-notice":
            self._load_notice(options["calendar"], options["year"], options["file"])
        else:
            report = calendars_seed()
            self.stdout.write(
                f"{report.calendars_created} calendars created, {report.days_written} days written"
            )

    def _status(self) -> None:
        today = timezone.localdate()
        for calendar in calendar_list():
            if calendar.known_until is None:
                known = "no horizon"
            else:
                days = (calendar.known_until - today).days
                known = f"known until {calendar.known_until} ({days} days)"
            self.stdout.write(f"{calendar.code:<20} {known}")
        self.stdout.flush()  # the list before the warnings, when both go to one terminal
        for horizon in calendar_horizon_warnings(today=today):
            self.stderr.write(f"warning: {horizon.describe()}")

    def _load_notice(self, code: str, year: int, path: Path) -> None:
        calendar = calendar_get(code=code)
        if calendar is None:
            raise CommandError(f"calendar {code} not found")
        try:
            with path.open("rb") as file:
                content = file.read(MAX_BYTES + 1)  # one byte over is enough to refuse it
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}") from exc
        try:
            notice = notice_parse(content=content, year=year)
            report = calendar_notice_load(calendar=calendar, notice=notice, actor=None)
        except BankdeskError as exc:
            problems = getattr(exc, "problems", (exc.message,))
            raise CommandError(f"{path} not loaded:\n  " + "\n  ".join(problems)) from exc
        self.stdout.write(
            f"{calendar.code}: official notice for {year} loaded, {report.holidays} holidays, "
            f"{report.working_days} adjusted working days ({report.added} added, "
            f"{report.corrected} corrected); known until {report.known_until}"
        )
        if report.kept:
            kept = ", ".join(day.isoformat() for day in report.kept)
            self.stdout.write(f"  days of {year} on the calendar the notice does not list: {kept}")
        with tqdm(unit="case", disable=None) as bar:
            recomputed = sla_clocks_recompute(
                actor=None,
                reason=f"official notice for {year} loaded into {calendar.code}",
                calendar=calendar,
                renew_terms=False,
                progress=lambda done: _advance(bar, done),
            )
        self.stdout.write(
            f"  {recomputed.cases} open cases worked out again, "
            f"{recomputed.clocks_changed} clocks changed"
        )


def _advance(bar: tqdm[Any], done: int) -> None:
    bar.update(done - bar.n)
