"""`bankdesk worker`: run background tasks, and enqueue the periodic ones on time."""

from __future__ import annotations

import logging
import threading
from argparse import ArgumentParser
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from bankdesk.assistant.training_runs import model_training_recover
from bankdesk.config.processes import parent_watch_start
from bankdesk.config.schedule import run_schedule
from bankdesk.security.audit import AuditKeyMismatch, audit_key_check
from bankdesk.security.crypto import KeyRingError, keyring

logger = logging.getLogger("bankdesk.worker")


class Command(BaseCommand):
    help = "Run background tasks from the database queue (any number of workers may run)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between polls")
        parser.add_argument(
            "--no-schedule",
            action="store_true",
            help="do not enqueue periodic tasks from this worker",
        )
        parser.add_argument("--batch", action="store_true", help="exit when the queue is empty")
        parser.add_argument(
            "--stop-with",
            type=int,
            metavar="PID",
            help="stop when process PID, this worker's parent, ends (bankdesk up passes its own)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            keyring()
            audit_key_check()
        except (KeyRingError, AuditKeyMismatch) as exc:
            raise CommandError(f"bankdesk worker cannot start: {exc}") from exc
        if options["stop_with"] is not None:
            parent_watch_start(options["stop_with"])
        self._recover()
        stop = threading.Event()
        if not options["no_schedule"] and not options["batch"]:
            threading.Thread(target=run_schedule, args=(stop,), daemon=True).start()
        try:
            worker_args = ["--interval", str(options["interval"]), "--queue-name", "*"]
            if options["batch"]:
                worker_args.append("--batch")
            call_command("db_worker", *worker_args)
        finally:
            stop.set()

    def _recover(self) -> None:
        """Work a crash left half done is failed (or taken up again) before new work starts:
        a worker killed during a training run comes back to find it marked interrupted."""
        try:
            model_training_recover()
        except Exception:  # the periodic check tries again; the queue must not wait for it
            logger.exception("could not check for interrupted training runs")
