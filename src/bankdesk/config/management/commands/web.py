"""`bankdesk web`: one web process, serving on the listening socket `bankdesk up` hands it."""

from __future__ import annotations

import signal
import socket
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from bankdesk.config.processes import parent_watch_start, stop_on_signals
from bankdesk.config.web_processes import web_serve


class Command(BaseCommand):
    help = (
        "Serve web and WebSockets on an inherited listening socket "
        "(`bankdesk up` starts one per web process)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--fd", type=int, required=True, help="file descriptor of the listening socket"
        )
        parser.add_argument(
            "--stop-with",
            type=int,
            metavar="PID",
            help="stop when process PID, this process's parent, ends (bankdesk up passes its own)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            listener = socket.socket(fileno=options["fd"])
        except OSError as exc:
            raise CommandError(f"no listening socket on file descriptor {options['fd']}") from exc
        if options["stop_with"] is not None:
            parent_watch_start(options["stop_with"])
        # uvicorn stops gracefully on SIGTERM or SIGINT, then raises the signal again: ours turns
        # it into a clean exit (StopRequested) rather than death by signal.
        stop_on_signals((signal.SIGTERM, signal.SIGINT))
        web_serve(listener)
