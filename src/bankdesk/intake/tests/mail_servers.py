"""Real mail servers on loopback for the e-mail tests: a client for bankdesk's SMTP receiver,
and a relay that keeps (or refuses) what bankdesk sends."""

from __future__ import annotations

import email
import smtplib
import socket
from email.message import Message as MimeMessage
from email.policy import default as default_policy
from typing import Any

from bankdesk.intake.channels.email.receiver import SmtpReceiver

BANK = "service@bank.example"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def send(
    receiver: SmtpReceiver,
    raw: bytes,
    *,
    sender: str = "customer@example.cn",
    to: str = BANK,
) -> tuple[int, bytes]:
    """Send one message; the server's answer to DATA (or the refusal before it)."""
    with smtplib.SMTP(receiver.host, receiver.port, timeout=30) as client:
        client.ehlo()
        code, answer = client.mail(sender)
        assert code == 250
        code, answer = client.rcpt(to)
        if code != 250:
            return code, answer
        return client.data(raw)


class Sink:
    """A mail server that keeps what it is given, or refuses it with a set answer."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], bytes]] = []
        self.answer = "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.answer.startswith("250"):
            self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return self.answer

    def last(self) -> MimeMessage:
        """The latest mail kept, parsed strictly (headers as a mail program reads them)."""
        (_sender, _recipients, content) = self.received[-1]
        return email.message_from_bytes(content, policy=default_policy)
