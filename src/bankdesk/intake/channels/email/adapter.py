"""Replies to customers by e-mail, through the bank's mail relay.

The Message-ID is made from the outbox message's idempotency key and kept on the outbox message
before the first attempt, so every attempt at one reply carries the same id, even after a crash
and a change of the bank's address: a receiving server (or the customer's mail program) that
already has it can tell a resend from a new mail. It also carries the reply token (see
reply_ids), so the customer's answer to it proves which case it continues. SMTP takes no
idempotency key, so a worker that dies after the relay took a mail and before recording it
sends the mail again: delivery is at least once.
Replies are written by staff, so they do not carry Auto-Submitted (RFC 3834): the customer's
own auto-responder may answer them, and bankdesk's loop guards catch that answer.
"""

from __future__ import annotations

import json
import re
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
MESSAGE_ID_MAX = 255
# An addr-spec with nothing that could end the header or the SMTP command it goes into.
_ADDRESS = re.compile(r"[^\s<>@,;:\"()\[\]\\]+@[^\s<>@,;:\"()\[\]\\]+")
# RFC 5322 msg-id without its brackets: dot-atom-text "@" dot-atom-text.
_MESSAGE_ID = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


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
    if not _ADDRESS.fullmatch(sender):
        raise DeliveryFailed("the e-mail endpoint's from address is not an address", permanent=True)
    return sender


def message_id(item: OutboxMessage, sender: str) -> str:
    """The id of one reply (without angle brackets), made from its outbox key and carrying the
    reply's token. The outbox keeps the first one made on the item, so every attempt sends that
    one."""
    domain = sender.rpartition("@")[2] or "bankdesk.localdomain"
    token = str(item.payload_data().get("reply_token") or "")
    return reply_message_id(key=item.idempotency_key, token=token, domain=domain)


def header_text(value: str) -> str:
    """A header value that stays on its own line: line breaks and other control characters
    (which would fold a second header, a Bcc say, into this one) become single spaces."""
    return " ".join(_CONTROL.sub(" ", value).split())


def _message_id_or_nothing(value: str) -> str:
    """A Message-ID as stored, without angle brackets, if it is one; else "" (not threaded)."""
    value = value.strip().removeprefix("<").removesuffix(">")
    return value if len(value) <= MESSAGE_ID_MAX and _MESSAGE_ID.fullmatch(value) else ""


def reply_headers(item: OutboxMessage, endpoint: ChannelEndpoint | None) -> dict[str, str]:
    """Every header of a reply: the one place they are made, each from a value that cannot
    break out of its line. Values come from the outbox payload, and rows stored before intake
    cleaned header values may hold anything; an unusable thread id is left out (the case
    number in the subject still leads the customer's answer back)."""
    payload = item.payload_data()
    config = endpoint.settings if endpoint is not None else {}
    sender = _sender(endpoint)
    recipient = item.recipient.strip()
    if not _ADDRESS.fullmatch(recipient):
        raise DeliveryFailed("the customer's e-mail address is not an address", permanent=True)
    display = header_text(str(config.get("from_name") or ""))
    reference = _message_id_or_nothing(item.provider_message_id) or message_id(item, sender)
    headers = {
        "From": formataddr((display, sender)) if display else sender,
        "To": recipient,
        "Subject": header_text(str(payload.get("subject") or "")),
        "Date": formatdate(localtime=False, usegmt=True),
        "Message-ID": f"<{reference}>",
    }
    answered = _message_id_or_nothing(str(payload.get("in_reply_to") or ""))
    if answered:
        headers["In-Reply-To"] = headers["References"] = f"<{answered}>"
    return headers


def reply_build(item: OutboxMessage, endpoint: ChannelEndpoint | None) -> EmailMessage:
    """The reply as a UTF-8 MIME message, threaded under the customer's last mail."""
    mail = EmailMessage(policy=SMTP_POLICY)
    for name, value in reply_headers(item, endpoint).items():
        mail[name] = value
    mail.set_content(str(item.payload_data().get("text") or ""), charset="utf-8")
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
        sender, reference = _sender(endpoint), str(mail["Message-ID"]).strip("<>")
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
                # The envelope names the customer alone, whatever the headers say.
                smtp.send_message(mail, from_addr=sender, to_addrs=[item.recipient.strip()])
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryFailed(f"the relay refused bankdesk's login: {exc.smtp_code}") from exc
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()), (550, b"refused"))
            raise _refusal(code, text) from exc
        except smtplib.SMTPResponseException as exc:
            raise _refusal(exc.smtp_code, exc.smtp_error) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryFailed(f"the relay {host}:{port} could not be reached: {exc}") from exc
        return reference

    def message_reference(self, item: OutboxMessage, endpoint: ChannelEndpoint | None) -> str:
        return message_id(item, _sender(endpoint))
