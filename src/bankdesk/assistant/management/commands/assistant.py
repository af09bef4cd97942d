"""`bankdesk assistant train|evaluate|versions`: teach the assistant, measure it, and see
its trained versions."""

from __future__ import annotations

import json
import time
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from bankdesk.assistant.choices import ExampleSource, ModelStatus
from bankdesk.assistant.seed import assistant_seed
from bankdesk.assistant.training import (
    examples_import,
    model_evaluate,
    model_train,
    read_labelled_csv,
)
from bankdesk.assistant.versions import VersionRow, model_versions_list
from bankdesk.knowledge.seed import knowledge_seed
from bankdesk.lib.errors import BankdeskError


class Command(BaseCommand):
    help = (
        "The assistant: load its shipped knowledge, train a new model version, measure the "
        "one in service, or list the versions."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        train = sub.add_parser("train", help="import examples (optional), then train a version")
        train.add_argument(
            "--data",
            action="append",
            default=[],
            type=Path,
            metavar="FILE.csv",
            help="labelled examples to import first (columns text,category; oos = out of "
            "scope); may be given several times",
        )
        train.add_argument(
            "--no-holdout",
            action="store_true",
            help="skip measuring on a held-out tenth (trains once instead of twice)",
        )
        train.add_argument("--seed", type=int, default=0)
        sub.add_parser(
            "seed",
            help="load the shipped intents, examples and FAQ answers (kept edits stay as they are)",
        )
        evaluate = sub.add_parser("evaluate", help="measure the model in service on a file")
        evaluate.add_argument("--file", required=True, type=Path, metavar="FILE.csv")
        sub.add_parser(
            "versions",
            help="the latest trained versions: ready, training, failed or interrupted, and "
            "whether every node can serve them",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "train":
                self._train(options["data"], not options["no_holdout"], options["seed"])
            elif options["action"] == "seed":
                articles = knowledge_seed()
                result = assistant_seed()
                self.stdout.write(
                    f"{articles} knowledge articles and {result.added} examples added "
                    f"({result.already_there} already there)"
                )
            elif options["action"] == "versions":
                for version in model_versions_list(limit=20):
                    self.stdout.write(self._version_line(version))
            else:
                rows = read_labelled_csv(options["file"])
                self.stdout.write(json.dumps(model_evaluate(rows)))
        except BankdeskError as exc:
            raise CommandError(exc.message) from exc

    def _train(self, files: list[Path], holdout: bool, seed: int) -> None:
        for path in files:
            result = examples_import(
                read_labelled_csv(path), source=ExampleSource.IMPORT, actor=None
            )
            self.stderr.write(
                f"{path}: {result.added} examples added, {result.already_there} already there, "
                f"{result.intents_added} new intents"
            )
        bars: dict[str, tqdm[Any]] = {}
        # The longest stretch without a progress report: a training run is taken as
        # interrupted after BANKDESK_ASSISTANT_TRAINING_STALE_SECONDS without one, so this is
        # what that setting must stay well above on this machine and data.
        reported_at, silence, silent_until = time.monotonic(), 0.0, "start"

        def progress(stage: str, done: int, total: int) -> None:
            nonlocal reported_at, silence, silent_until
            now = time.monotonic()
            if now - reported_at > silence:
                silence, silent_until = now - reported_at, f"{stage} {done}/{total}"
            reported_at = now
            bar = bars.get(stage)
            if bar is None:
                bar = bars[stage] = tqdm(total=total, desc=stage, unit="", leave=True)
            bar.n = done
            bar.refresh()

        version = model_train(actor=None, progress=progress, holdout=holdout, seed=seed)
        for bar in bars.values():
            bar.close()
        self.stdout.write(
            f"model v{version.pk}: {version.examples} examples, {version.labels} intents, "
            f"{version.seconds:.0f} s; held-out figures {json.dumps(version.metrics)}"
        )
        self.stderr.write(
            f"longest step {silence:.0f} s (until {silent_until}); a run silent for "
            f"{settings.BANKDESK_ASSISTANT_TRAINING_STALE_SECONDS} s is taken as interrupted"
        )

    @staticmethod
    def _version_line(version: VersionRow) -> str:
        status = "interrupted" if version.is_interrupted else version.status
        line = (
            f"v{version.id}  {status:<11}  {version.created_at:%Y-%m-%d %H:%M}  "
            f"{version.examples} examples, {version.labels} intents"
        )
        if version.status == ModelStatus.READY:
            line += "  stored" if version.is_stored else "  NOT STORED"
        details = [text for text in (version.error, version.note) if text]
        return "  ".join([line, *details])
