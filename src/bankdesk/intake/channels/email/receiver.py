"""The built-in SMTP receiver: the bank's mail server hands customers' mail to bankdesk here.

It listens on BANKDESK_SMTP_LISTEN (127.0.0.1:2525 unless set) and accepts mail only for the
addresses of switched-on e-mail endpoints (settings["addresses"]). With no e-mail endpoint at
all (a fresh or demo install) it accepts every recipient, so mail can be tried before anything
is set up; it listens on loopback by default for that reason.

The answer to DATA tells the sending server what to do with the message:
250 once it is on a case, already there, or recognised as automatic mail that needs nothing;
451 when bankdesk could not store it just now (the sender retries: nothing is lost);
550 for mail that can never be read (the sender bounces it to its author).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from concurrent import futures
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from django.conf import settings
from django.db import connections

from bankdesk.intake.channels.email.inbox import email_receive, endpoint_addresses
from bankdesk.intake.channels.email.parse import MESSAGE_MAX_BYTES
from bankdesk.intake.choices import IntakeOutcome
from bankdesk.intake.models import ChannelEndpoint
from bankdesk.lib.channels import Channel
from bankdesk.lib.errors import BankdeskError, InvalidInput

logger = logging.getLogger(__name__)
# aiosmtpd logs every command at INFO, senders' and recipients' addresses included: customer
# data that does not belong in the application log.
logging.getLogger("mail.log").setLevel(logging.WARNING)

WORKERS = 8
T = TypeVar("T")


def listen_address(value: str) -> tuple[str, int]:
    """host:port, [v6]:port or :port (loopback) from the setting or a command line."""
    host, separator, port = value.strip().rpartition(":")
    if not separator or not port.isdigit() or not 0 < int(port) < 65536:
        raise InvalidInput(f"not a host:port address: {value!r}", field="listen")
    return host.strip("[]") or "127.0.0.1", int(port)


def recipient_endpoint(address: str) -> tuple[bool, ChannelEndpoint | None]:
    """Whether bankdesk takes mail for this address, and for which endpoint. Once any e-mail
    endpoint exists, only the addresses of switched-on ones receive mail."""
    wanted = address.strip().lower()
    endpoints = list(ChannelEndpoint.objects.filter(channel=Channel.EMAIL))
    if not endpoints:
        return True, None
    for endpoint in endpoints:
        if endpoint.is_active and wanted in endpoint_addresses(endpoint):
            return True, endpoint
    return False, None


def _endpoint_for(recipients: list[str]) -> ChannelEndpoint | None:
    for address in recipients:
        _accepted, endpoint = recipient_endpoint(address)
        if endpoint is not None:
            return endpoint
    return None


def _store(raw: bytes, mail_from: str | None, recipients: list[str]) -> str:
    return email_receive(raw, endpoint=_endpoint_for(recipients), envelope_sender=mail_from).outcome


def _connections_tidy() -> None:
    for connection in connections.all(initialized_only=True):
        if connection.connection is None:
            continue
        if connection.errors_occurred:
            if not connection.is_usable():
                connection.close()
                continue
            connection.errors_occurred = False
        max_age = connection.settings_dict.get("CONN_MAX_AGE") or 0
        if max_age and connection.close_at is not None and time.monotonic() >= connection.close_at:
            connection.close()


class IntakeHandler:
    """aiosmtpd's handler: each message goes through the one intake service, off the loop.

    The ORM is synchronous, so database work runs in a small thread pool. Each worker thread
    keeps its connection from message to message (opening one costs more than storing a message
    on SQLite) and drops it once it broke or outlived CONN_MAX_AGE on PostgreSQL.
    """

    def __init__(self, *, workers: int = WORKERS) -> None:
        self.workers = workers
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="smtp-intake")

    async def _in_thread(self, function: Any, *args: Any) -> Any:
        def job() -> Any:
            try:
                return function(*args)
            finally:
                _connections_tidy()

        return await asyncio.get_running_loop().run_in_executor(self.executor, job)

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        try:
            accepted, _endpoint = await self._in_thread(recipient_endpoint, address)
        except Exception:
            logger.exception("SMTP recipient check failed")
            return "451 4.3.0 temporary failure, try again later"
        if not accepted:
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        try:
            outcome = await self._in_thread(
                _store, raw, envelope.mail_from, list(envelope.rcpt_tos)
            )
        except InvalidInput as exc:
            logger.info("SMTP message refused: %s", exc)
            return f"550 5.6.0 {_one_line(str(exc))}"
        except BankdeskError as exc:
            logger.warning("SMTP message not stored: %s", exc)
            return "451 4.3.0 temporary failure, try again later"
        except Exception:  # the database or the disk: the sender keeps the message and retries
            logger.exception("SMTP message not stored")
            return "451 4.3.0 temporary failure, try again later"
        if outcome == IntakeOutcome.DUPLICATE:
            return "250 2.0.0 already received"
        if outcome == IntakeOutcome.IGNORED:
            return "250 2.0.0 accepted (automatic mail)"
        return "250 2.0.0 message accepted"

    def close(self) -> None:
        """Finish the messages in hand and close every worker's database connection: one left
        open would outlive the receiver (and keep PostgreSQL from dropping a test database)."""
        everyone = threading.Barrier(self.workers)

        def close_connections() -> None:
            connections.close_all()
            # Wait for the others, so that each of these jobs runs on a different thread.
            with contextlib.suppress(threading.BrokenBarrierError):
                everyone.wait(timeout=10)

        futures.wait([self.executor.submit(close_connections) for _ in range(self.workers)])
        self.executor.shutdown(wait=True)


def _one_line(text: str) -> str:
    return " ".join(text.split())[:200].encode("ascii", "replace").decode("ascii")


@dataclass
class SmtpReceiver:
    """A running receiver: where it listens, and how to stop it."""

    host: str
    port: int
    controller: Controller
    handler: IntakeHandler

    @property
    def address(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def stop(self) -> None:
        self.controller.stop()
        self.handler.close()


def smtp_receiver_start(
    listen: str | None = None, *, data_size_limit: int = MESSAGE_MAX_BYTES
) -> SmtpReceiver:
    """Start receiving mail in a background thread; raises OSError if the port is taken."""
    host, port = listen_address(listen or settings.BANKDESK_SMTP_LISTEN)
    handler = IntakeHandler()
    controller = Controller(
        handler,
        hostname=host,
        port=port,
        data_size_limit=data_size_limit,
        ident="bankdesk",
        server_hostname="bankdesk",
    )
    try:
        controller.start()
    except BaseException:
        handler.close()
        raise
    return SmtpReceiver(host=host, port=port, controller=controller, handler=handler)
