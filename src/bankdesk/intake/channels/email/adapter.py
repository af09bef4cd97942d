"""Replies to customers by e-mail, through the bank's mail relay.

The Message-ID is made from the outbox message's idempotency key, so every attempt at one reply
carries the same id: a receiving server (or the customer's mail program) that already has it
can tell a retry from a new mail. It also carries the reply token (see reply_ids), so the
customer's answer to it leads back to its case.
Replies are written by staff, so they do not carry Auto-Submitted (RFC 3834): the customer's
own auto-responder may answer them, and bankdesk's loop guards catch that answer.
"""

from __future__ import annotations

import json
import smtplib
import ssl
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import formataddr, formatdate
from typing import Any

from django.conf import settings

from bankdesk.intake.channels.base import ChannelAdapter
from bankdesk.intake.channels.email.inbox import endpoint_addresses
from bankdesk.intake.channels.email.receiver import listen_address
from bankdesk.intake.channels.email.reply_ids import reply_message_id
from bankdesk.intake.errors import DeliveryFailed
from bankdesk.intake.models import ChannelEndpoint, OutboxMessage
from bankdesk.lib.channels import Channel
from bankdesk.lib.errors import InvalidInput

TIMEOUT_SECONDS = 30


def _secrets(endpoint: ChannelEndpoint | None) -> dict[str, Any]:
    if endpoint is None or not endpoint.secrets:
        return {}
    try:
        data = json.loads(endpoint.secrets)
    except json.JSONDecodeError as exc:
        raise DeliveryFailed("the e-mail endpoint's secrets are not JSON") from exc
    return data if isinstance(data, dict) else {}


def _sender(endpoint: ChannelEndpoint | None) -> str:
    config = endpoint.settings if endpoint is not None else {}
    sender = str(config.get("from") or "").strip()
    if not sender and endpoint is not None:
        sender = next(iter(endpoint_addresses(endpoint)), "")
    if not sender:
        # Nothing to send from until an e-mail endpoint is set up: no retry can fix that.
        raise DeliveryFailed("no e-mail endpoint with a from address", permanent=True)
    return sender


def message_id(item: OutboxMessage, sender: str) -> str:
    """The same id on every attempt at one reply (without angle brackets), carrying the reply's
    token so the customer's answer proves which case it continues."""
    domain = sender.rpartition("@")[2] or "bankdesk.localdomain"
    token = str(item.payload_data().get("reply_token") or "")
    return reply_message_id(key=item.idempotency_key, token=token, domain=domain)


def reply_build(item: OutboxMessage, endpoint: ChannelEndpoint | None) -> EmailMessage:
    """The reply as a UTF-8 MIME message, threaded under the customer's last mail."""
    payload = item.payload_data()
    sender = _sender(endpoint)
    mail = EmailMessage(policy=SMTP_POLICY)
    display = str((endpoint.settings if endpoint else {}).get("from_name") or "")
    mail["From"] = formataddr((display, sender)) if display else sender
    mail["To"] = item.recipient
    mail["Subject"] = str(payload.get("subject") or "")
    mail["Date"] = formatdate(localtime=False, usegmt=True)
    mail["Message-ID"] = f"<{message_id(item, sender)}>"
    answered = str(payload.get("in_reply_to") or "").strip().strip("<>")
    if answered:
        mail["In-Reply-To"] = f"<{answered}>"
        mail["References"] = f"<{answered}>"
    mail.set_content(str(payload.get("text") or ""), charset="utf-8")
    return mail


def _relay(endpoint: ChannelEndpoint | None) -> tuple[str, int, str]:
    """Host, port and security ("", "starttls" or "ssl") of the server replies go through."""
    config = endpoint.settings if endpoint is not None else {}
    if config.get("smtp_host"):
        security = str(config.get("smtp_security") or "").lower()
        default_port = {"ssl": 465, "starttls": 587}.get(security, 25)
        return str(config["smtp_host"]), int(config.get("smtp_port") or default_port), security
    try:
        host, port = listen_address(settings.BANKDESK_SMTP_RELAY)
    except InvalidInput as exc:
        raise DeliveryFailed(f"BANKDESK_SMTP_RELAY is not host:port: {exc}") from exc
    return host, port, ""


def _refusal(code: int, text: object) -> DeliveryFailed:
    detail = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return DeliveryFailed(f"SMTP {code}: {detail}", permanent=500 <= code < 600)


class EmailAdapter(ChannelAdapter):
    channel = Channel.EMAIL

    def deliver(self, item: OutboxMessage, endpoint: ChannelEndpoint | None) -> str:
        """Hand the reply to the relay. 4xx and lost connections are retried; 5xx is final
        (the relay will never take it), except refused credentials, which staff can fix."""
        mail = reply_build(item, endpoint)
        host, port, security = _relay(endpoint)
        secrets = _secrets(endpoint)
        context = ssl.create_default_context()
        try:
            smtp: smtplib.SMTP
            if security == "ssl":
                smtp = smtplib.SMTP_SSL(host, port, timeout=TIMEOUT_SECONDS, context=context)
            else:
                smtp = smtplib.SMTP(host, port, timeout=TIMEOUT_SECONDS)
            with smtp:
                if security == "starttls":
                    smtp.starttls(context=context)
                if secrets.get("smtp_username"):
                    smtp.login(str(secrets["smtp_username"]), str(secrets.get("smtp_password")))
                smtp.send_message(mail)
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryFailed(f"the relay refused bankdesk's login: {exc.smtp_code}") from exc
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()), (550, b"refused"))
            raise _refusal(code, text) from exc
        except smtplib.SMTPResponseException as exc:
            raise _refusal(exc.smtp_code, exc.smtp_error) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryFailed(f"the relay {host}:{port} could not be reached: {exc}") from exc
        return message_id(item, _sender(endpoint))
