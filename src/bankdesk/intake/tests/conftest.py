"""Mail servers on loopback, shared by the e-mail tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller
from django.test import override_settings

from bankdesk.intake.channels.email.receiver import SmtpReceiver, smtp_receiver_start
from bankdesk.intake.tests.mail_servers import Sink, free_port


@pytest.fixture
def smtp_receiver() -> Iterator[SmtpReceiver]:
    """bankdesk's own SMTP receiver, listening on a free loopback port."""
    running = smtp_receiver_start(f"127.0.0.1:{free_port()}")
    yield running
    running.stop()


@pytest.fixture
def relay() -> Iterator[Sink]:
    """The bank's mail relay, as bankdesk's replies reach it."""
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    with override_settings(BANKDESK_SMTP_RELAY=f"127.0.0.1:{port}"):
        yield sink
    controller.stop()
