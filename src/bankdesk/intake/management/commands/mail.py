"""`bankdesk mail`: the e-mail channel from the command line.

bankdesk mail serve [--listen HOST:PORT]   receive mail over SMTP until stopped
bankdesk mail poll --endpoint CODE         take the unread mail of one IMAP mailbox once
"""

from __future__ import annotations

import imaplib
import signal
import threading
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from bankdesk.lib.errors import BankdeskError


class Command(BaseCommand):
    help = "Receive e-mail over SMTP (serve) or poll an IMAP mailbox once (poll)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        serve = actions.add_parser("serve", help="run the SMTP receiver in the foreground")
        serve.add_argument("--listen", help="host:port (default: BANKDESK_SMTP_LISTEN)")
        poll = actions.add_parser("poll", help="take the unread mail of one IMAP mailbox")
        poll.add_argument("--endpoint", required=True, help="the e-mail endpoint's code")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "serve":
                self._serve(options.get("listen"))
            else:
                self._poll(options["endpoint"])
        except BankdeskError as exc:
            raise CommandError(str(exc)) from exc

    def _serve(self, listen: str | None) -> None:
        from bankdesk.intake.channels.email.receiver import smtp_receiver_start

        try:
            receiver = smtp_receiver_start(listen)
        except OSError as exc:
            raise CommandError(f"cannot listen for SMTP: {exc}") from exc
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        self.stdout.write(f"bankdesk: receiving e-mail over SMTP on {receiver.address}")
        self.stdout.flush()
        try:
            stop.wait()
        finally:
            receiver.stop()
            self.stdout.write("bankdesk: SMTP receiver stopped")

    def _poll(self, code: str) -> None:
        from bankdesk.intake.channels.email.imap import email_endpoint_get, mailbox_poll

        endpoint = email_endpoint_get(code)
        try:
            report = mailbox_poll(endpoint=endpoint)
        except (OSError, imaplib.IMAP4.error) as exc:
            raise CommandError(f"cannot reach the mailbox of {code}: {exc}") from exc
        self.stdout.write(
            f"{code}: {report.fetched} fetched, {report.new_cases} new cases, "
            f"{report.added} added to cases, {report.duplicates} already received, "
            f"{report.ignored} automatic, {report.refused} unreadable, "
            f"{report.failed} left for the next poll"
        )
