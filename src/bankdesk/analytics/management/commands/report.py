"""`bankdesk report quarterly --quarter 2026Q3 --out DIR`: the quarterly evaluation as PDF and
XLSX, in Chinese and English (or one of them with --language)."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from bankdesk.analytics.evaluation import LANGUAGES, report_write
from bankdesk.analytics.periods import quarter_of, quarter_period
from bankdesk.lib.errors import BankdeskError

# What one language's report goes through, for the progress bar.
STEPS_PER_LANGUAGE = 7


class Command(BaseCommand):
    help = "Reports: the quarterly evaluation of the service plan (PDF and XLSX)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="kind", required=True)
        quarterly = sub.add_parser("quarterly", help="the quarterly evaluation")
        quarterly.add_argument("--quarter", required=True, help="the quarter, like 2026Q3")
        quarterly.add_argument("--out", required=True, type=Path, metavar="DIR")
        quarterly.add_argument(
            "--language", choices=LANGUAGES, action="append", help="zh-hans, en (default both)"
        )
        quarterly.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        quarter = options["quarter"].strip().upper()
        languages = tuple(options["language"] or LANGUAGES)
        try:
            period = quarter_period(quarter)
            if quarter_of(period.first) != quarter:
                raise CommandError("a quarter is written like 2026Q3")
            bar = tqdm(
                total=STEPS_PER_LANGUAGE * len(languages),
                desc=f"{quarter}",
                unit="step",
                disable=options["no_progress"],
            )

            def progress(step: str) -> None:
                bar.set_postfix_str(step)
                bar.update(1)

            with bar:
                written = report_write(
                    quarter, options["out"], languages=languages, progress=progress
                )
        except BankdeskError as exc:
            raise CommandError(exc.message) from exc
        for path in written:
            self.stdout.write(str(path))
