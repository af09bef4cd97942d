"""`bankdesk complaints …`: teach the intake classifier, measure it, and load complaints
exported from another register (the CFPB's)."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from bankdesk.lib.errors import BankdeskError


class Command(BaseCommand):
    help = "Complaints: train and measure the intake classifier, import CFPB complaints."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        train = sub.add_parser(
            "train", help="train the intake classifier on CFPB rows and stored examples"
        )
        train.add_argument(
            "--data",
            action="append",
            default=[],
            type=Path,
            metavar="FILE.csv",
            help="CFPB-format complaints; rows with a narrative are learnt from (repeatable)",
        )
        evaluate = sub.add_parser("evaluate", help="measure the classifier in service on a file")
        evaluate.add_argument("--file", required=True, type=Path, metavar="FILE.csv")
        load = sub.add_parser("import-cfpb", help="load CFPB-format complaints as complaint cases")
        load.add_argument("file", type=Path, metavar="FILE.csv")
        hot = sub.add_parser("hotspots", help="top products and issues against the period before")
        hot.add_argument("--from", dest="first", required=True, type=date.fromisoformat)
        hot.add_argument("--to", dest="end", required=True, type=date.fromisoformat,
                         help="the day after the last day")  # fmt: skip
        hot.add_argument("--json", action="store_true", help="print JSON")
        hot.add_argument("--top", type=int, default=10)
        export = sub.add_parser("export", help="the complaint register of a period as XLSX")
        export.add_argument("--from", dest="first", required=True, type=date.fromisoformat)
        export.add_argument("--to", dest="end", required=True, type=date.fromisoformat)
        export.add_argument("--lang", choices=["zh-hans", "en"], default="zh-hans")
        export.add_argument("--out", required=True, type=Path, metavar="FILE.xlsx")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            if action == "train":
                self._train(options["data"])
            elif action == "evaluate":
                self._evaluate(options["file"])
            elif action == "import-cfpb":
                self._import(options["file"])
            elif action == "hotspots":
                self._hotspots(options)
            elif action == "export":
                self._export(options)
        except BankdeskError as exc:
            raise CommandError(exc.message) from exc

    def _hotspots(self, options: dict[str, Any]) -> None:
        from bankdesk.complaints.hotspot_report import hotspot_report_json, hotspot_report_text
        from bankdesk.complaints.hotspots import Period, hotspots

        period = Period.of_dates(options["first"], options["end"])
        found = hotspots(period=period, top=options["top"])
        if options["json"]:
            self.stdout.write(json.dumps(hotspot_report_json(found), ensure_ascii=False))
        else:
            self.stdout.write(hotspot_report_text(found))

    def _export(self, options: dict[str, Any]) -> None:
        from bankdesk.complaints.export import complaint_register_xlsx
        from bankdesk.complaints.hotspots import Period

        period = Period.of_dates(options["first"], options["end"])
        content = complaint_register_xlsx(period=period, language=options["lang"])
        options["out"].write_bytes(content)
        self.stdout.write(f"{options['out']}: {len(content)} bytes")

    def _train(self, files: list[Path]) -> None:
        from bankdesk.complaints.classifier import classifier_train

        summary = classifier_train(files=files)
        self.stdout.write(json.dumps(summary))

    def _evaluate(self, path: Path) -> None:
        from bankdesk.complaints.classifier import classifier_evaluate

        self.stdout.write(json.dumps(classifier_evaluate(path)))

    def _import(self, path: Path) -> None:
        from bankdesk.complaints.cfpb import import_cfpb

        bars: dict[str, tqdm[Any]] = {}

        def progress(stage: str, done: int, total: int) -> None:
            bar = bars.get(stage)
            if bar is None:
                bar = bars[stage] = tqdm(total=total, desc=stage, unit=" rows")
            bar.n = done
            bar.refresh()

        result = import_cfpb(path, actor=None, progress=progress)
        for bar in bars.values():
            bar.close()
        for problem in result.problems:
            self.stderr.write(f"{path} line {problem.line}: {problem.reason}")
        self.stdout.write(
            f"{result.added} complaints added, {result.already_there} already there, "
            f"{len(result.problems)} rows skipped"
        )
