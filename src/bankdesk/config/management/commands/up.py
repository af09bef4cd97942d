"""`bankdesk up`: migrate, seed a demo bank on an empty database, serve web from several
processes, run a worker and receive e-mail over SMTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from argparse import ArgumentParser
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from bankdesk.config.processes import (
    StopRequested,
    children_stop,
    ignore_signals,
    stop_on_signals,
)
from bankdesk.config.web_processes import WebProcesses, WebProcessFailed, web_socket_bind

if TYPE_CHECKING:
    from bankdesk.intake.channels.email.receiver import SmtpReceiver
    from bankdesk.lib.live_broker import LiveBroker

DEMO_USERS = ("admin", "supervisor", "agent", "complaints", "auditor")
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Command(BaseCommand):
    help = (
        "Start bankdesk: migrate, seed a demo bank if empty, serve web, run a task worker and "
        "receive e-mail over SMTP."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--processes",
            type=int,
            default=None,
            help="web processes serving the port (default: BANKDESK_WEB_PROCESSES, one per core)",
        )
        parser.add_argument("--no-worker", action="store_true", help="do not start a task worker")
        parser.add_argument(
            "--no-smtp",
            action="store_true",
            help="do not start the SMTP receiver (BANKDESK_SMTP_LISTEN) for e-mail intake",
        )
        parser.add_argument("--no-demo", action="store_true", help="never seed demo data")
        parser.add_argument("--demo-customers", type=int, default=300)
        parser.add_argument("--demo-cases", type=int, default=3000)

    def handle(self, *args: Any, **options: Any) -> None:
        if not 1 <= options["port"] <= 65535:
            raise CommandError("--port must be between 1 and 65535")
        processes = options["processes"]
        if processes is None:
            processes = settings.BANKDESK_WEB_PROCESSES
        if processes < 1:
            raise CommandError("--processes must be at least 1")
        # A service manager stops us with SIGTERM, a terminal with SIGINT: both unwind through
        # the `finally` below, which stops every process this one started.
        stop_on_signals(STOP_SIGNALS)
        children: list[subprocess.Popen[bytes]] = []
        web: WebProcesses | None = None
        smtp: SmtpReceiver | None = None
        broker: LiveBroker | None = None
        try:
            self.stdout.write("bankdesk: applying database migrations…")
            call_command("migrate", interactive=False, verbosity=0)
            self._check_keys()
            seeded = False
            if not options["no_demo"]:
                seeded = self._seed_if_empty(options["demo_customers"], options["demo_cases"])
            self._assistant_ready()
            listener = self._listen(options["host"], options["port"])
            broker = None if settings.REDIS_URL else self._start_broker()
            if not options["no_worker"]:
                children.append(self._start_worker())
            smtp = None if options["no_smtp"] else self._start_smtp()
            web = WebProcesses(listener, processes)
            web.start()
            self._announce(options["host"], options["port"], processes, seeded, smtp)
            web.supervise()
        except StopRequested:
            pass
        except WebProcessFailed as exc:
            raise CommandError(f"bankdesk stopped: {exc}") from exc
        finally:
            ignore_signals(STOP_SIGNALS)
            if smtp is not None:
                smtp.stop()
            if children:
                self.stdout.write("bankdesk: stopping the worker…")
            if web is not None:
                self.stdout.write("bankdesk: stopping the web processes…")
                children = [*web.children, *children]
                web.listener.close()
            children_stop(children)
            if broker is not None:
                broker.stop()

    def _listen(self, host: str, port: int) -> socket.socket:
        try:
            return web_socket_bind(host, port)
        except OSError as exc:
            raise CommandError(f"bankdesk cannot listen on {host}:{port}: {exc}") from exc

    def _start_broker(self) -> LiveBroker:
        """Live notices between the web processes (and from the worker and the SMTP receiver)
        without Redis: every process started from here is told where the broker listens."""
        from channels import DEFAULT_CHANNEL_LAYER  # type: ignore[import-untyped]
        from channels.layers import channel_layers  # type: ignore[import-untyped]

        from bankdesk.lib.live_broker import (
            LIVE_BROKER_ENV,
            BrokeredChannelLayer,
            LiveBroker,
            broker_socket_path,
        )

        broker = LiveBroker(broker_socket_path(settings.BANKDESK_HOME))
        try:
            broker.start()
        except OSError as exc:
            raise CommandError(f"bankdesk cannot start: {exc}") from exc
        os.environ[LIVE_BROKER_ENV] = str(broker.path)
        # This process's own notices (the SMTP receiver's) go through the broker too.
        channel_layers.set(DEFAULT_CHANNEL_LAYER, BrokeredChannelLayer(broker=str(broker.path)))
        return broker

    def _check_keys(self) -> None:
        from bankdesk.security.crypto import KeyRingError, keyring

        try:
            ring = keyring()
        except KeyRingError as exc:
            raise CommandError(f"bankdesk cannot start: {exc}") from exc
        self.stdout.write(f"bankdesk: data keys and index key verified ({ring.source})")
        self._check_audit_key()

    def _check_audit_key(self) -> None:
        from bankdesk.security.audit import AuditKeyMismatch, audit_key_check

        try:
            key = audit_key_check()
        except AuditKeyMismatch as exc:
            raise CommandError(f"bankdesk cannot start: {exc}") from exc
        self.stdout.write(f"bankdesk: audit key verified (fingerprint {key.fingerprint})")

    def _seed_if_empty(self, customers: int, cases: int) -> bool:
        from bankdesk.analytics.rollups import rollups_rebuild
        from bankdesk.demo.seed import demo_base_exists, demo_base_seed, demo_password
        from bankdesk.demo.synthetic import demo_generate
        from bankdesk.demo.today import demo_today_seed
        from bankdesk.staff.models import User

        if User.objects.exists() or demo_base_exists():
            return False
        password, _generated = demo_password()
        self.stdout.write("bankdesk: empty database, building the demo bank…")
        demo_base_seed(password=password)
        demo_generate(customers=customers, cases=cases, seed=2026, progress=False)
        demo_today_seed()
        rollups_rebuild()  # the dashboard has a year to show from the first page
        return True

    def _assistant_ready(self) -> None:
        """The shipped knowledge and examples on a fresh install (admins' edits are kept),
        and a first model trained by the worker if none is ready."""
        from bankdesk.assistant.choices import ModelStatus
        from bankdesk.assistant.models import ModelVersion
        from bankdesk.assistant.seed import assistant_seed
        from bankdesk.assistant.tasks import assistant_train_run
        from bankdesk.knowledge.seed import knowledge_seed

        knowledge_seed()
        assistant_seed()
        if not ModelVersion.objects.exclude(status=ModelStatus.FAILED).exists():
            assistant_train_run.enqueue()
            self.stdout.write("bankdesk: the worker is training the assistant's first model…")

    def _start_worker(self) -> subprocess.Popen[bytes]:
        """The worker, told to stop with us should we die without stopping it (SIGKILL)."""
        command = [sys.executable, "-m", "bankdesk.config.cli", "worker"]
        # Our own interpreter and command; the one variable is our process id.
        return subprocess.Popen(  # noqa: S603
            [*command, "--stop-with", str(os.getpid())], env=os.environ.copy()
        )

    def _start_smtp(self) -> SmtpReceiver | None:
        """The SMTP receiver runs in this process; a taken port costs e-mail, not the rest."""
        from django.conf import settings

        from bankdesk.intake.channels.email.receiver import smtp_receiver_start
        from bankdesk.lib.errors import InvalidInput

        try:
            return smtp_receiver_start()
        except (OSError, InvalidInput) as exc:
            self.stderr.write(
                f"bankdesk: e-mail intake NOT started, cannot listen on "
                f"{settings.BANKDESK_SMTP_LISTEN}: {exc} "
                "(set BANKDESK_SMTP_LISTEN, or pass --no-smtp)"
            )
            return None

    def _announce(
        self, host: str, port: int, processes: int, seeded: bool, smtp: SmtpReceiver | None
    ) -> None:
        from bankdesk.demo.seed import demo_password
        from bankdesk.sla.selectors import calendar_horizon_warnings
        from bankdesk.staff.models import User

        shown_host = f"[{host}]" if ":" in host else host
        self.stdout.write("")
        plural = "es" if processes != 1 else ""
        self.stdout.write(
            f"bankdesk is serving on http://{shown_host}:{port}/ ({processes} web process{plural})"
        )
        self.stdout.write(f"  API:  http://{shown_host}:{port}/api/v1/docs")
        if smtp is not None:
            self.stdout.write(f"  SMTP: {smtp.address} (e-mail intake)")
        demo = list(User.objects.filter(username__in=DEMO_USERS).values_list("username", "role"))
        if demo:
            password, generated = demo_password()
            self.stdout.write("  demo staff logins (username / role):")
            for username, role in sorted(demo):
                self.stdout.write(f"    {username:<11} {role}")
            if generated:
                self.stdout.write(
                    f"  demo password: {password}  (set BANKDESK_DEMO_PASSWORD to choose it)"
                )
            else:
                self.stdout.write("  demo password: the value of BANKDESK_DEMO_PASSWORD")
        if seeded:
            self.stdout.write("  a demo bank was created; `bankdesk demo` adds more data")
        # Whoever starts the bank reads this: a calendar running out of published holidays.
        for horizon in calendar_horizon_warnings():
            self.stdout.write(f"  warning: {horizon.describe()}")
        self.stdout.write("")
        self.stdout.flush()
