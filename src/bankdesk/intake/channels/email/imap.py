"""Polling a mailbox the bank already has (IMAP), for banks that keep their own mail server.

The endpoint's settings say where (host, port, ssl, username, folder) and its secrets hold the
password. Unread mail is fetched without marking it read, put on a case, and only then marked
read: a poller that dies midway leaves the rest unread for the next run, and a message taken
twice — two pollers overlapping, a crash after storing — is the same Message-ID, which intake
stores once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from django.db import DatabaseError

from bankdesk.intake.channels.email.inbox import email_receive
from bankdesk.intake.choices import IntakeOutcome
from bankdesk.intake.errors import EndpointNotFound
from bankdesk.intake.models import ChannelEndpoint
from bankdesk.lib.channels import Channel
from bankdesk.lib.errors import InvalidInput

logger = logging.getLogger(__name__)

FETCH_BATCH = 20
TIMEOUT_SECONDS = 60
SEEN = b"\\Seen"


class MailboxClient(Protocol):
    """The part of imapclient.IMAPClient a poll uses (a fake one in some tests)."""

    def login(self, username: str, password: str) -> Any: ...
    def select_folder(self, folder: str, readonly: bool = False) -> Any: ...
    def search(self, criteria: Any = "ALL", charset: str | None = None) -> Any: ...
    def fetch(self, messages: Any, data: Any, modifiers: Any = None) -> Any: ...
    def add_flags(self, messages: Any, flags: Any, silent: bool = False) -> Any: ...
    def logout(self) -> Any: ...


@dataclass(frozen=True)
class PollReport:
    fetched: int = 0
    new_cases: int = 0
    added: int = 0
    duplicates: int = 0
    ignored: int = 0
    refused: int = 0
    failed: int = 0


def _client(endpoint: ChannelEndpoint) -> MailboxClient:
    from imapclient import IMAPClient  # type: ignore[import-untyped]  # no type hints shipped

    config = endpoint.settings
    use_ssl = bool(config.get("ssl", True))
    client: MailboxClient = IMAPClient(
        str(config["host"]),
        port=int(config.get("port") or (993 if use_ssl else 143)),
        ssl=use_ssl,
        timeout=TIMEOUT_SECONDS,
    )
    return client


def _password(endpoint: ChannelEndpoint) -> str:
    try:
        secrets = json.loads(endpoint.secrets or "{}")
    except json.JSONDecodeError as exc:
        raise InvalidInput("the endpoint's secrets are not JSON", field="secrets") from exc
    return str(secrets.get("password") or "")


def mailbox_poll(
    *,
    endpoint: ChannelEndpoint,
    connect: Callable[[ChannelEndpoint], MailboxClient] = _client,
) -> PollReport:
    """Take every unread message in the endpoint's mailbox folder onto cases."""
    config = endpoint.settings
    if endpoint.channel != Channel.EMAIL or not config.get("host"):
        raise InvalidInput(f"endpoint {endpoint.code} has no IMAP mailbox", field="endpoint")
    if not endpoint.is_active:
        raise InvalidInput(f"endpoint {endpoint.code} is switched off", field="endpoint")
    client = connect(endpoint)
    counts = dict.fromkeys(PollReport.__dataclass_fields__, 0)
    try:
        client.login(str(config.get("username") or ""), _password(endpoint))
        client.select_folder(str(config.get("folder") or "INBOX"))
        uids = sorted(int(uid) for uid in client.search(["UNSEEN"]))
        for start in range(0, len(uids), FETCH_BATCH):
            batch = uids[start : start + FETCH_BATCH]
            fetched = client.fetch(batch, ["BODY.PEEK[]"])
            for uid in batch:
                raw = (fetched.get(uid) or {}).get(b"BODY[]")
                if not isinstance(raw, bytes):
                    continue
                counts["fetched"] += 1
                outcome = _take(raw, endpoint, uid)
                counts[outcome] += 1
                if outcome != "failed":
                    client.add_flags([uid], [SEEN])
    finally:
        try:
            client.logout()
        except Exception:  # the server went away; nothing left to tidy
            logger.info("IMAP logout from %s failed", endpoint.code)
    return PollReport(**counts)


OUTCOME_COUNTS = {
    IntakeOutcome.NEW_CASE: "new_cases",
    IntakeOutcome.ADDED: "added",
    IntakeOutcome.REOPENED: "added",
    IntakeOutcome.DUPLICATE: "duplicates",
    IntakeOutcome.IGNORED: "ignored",
}


def _take(raw: bytes, endpoint: ChannelEndpoint, uid: int) -> str:
    """One message onto a case: the report counter to bump. Unreadable mail is marked read
    (retrying cannot help); mail that failed to store stays unread for the next poll."""
    try:
        result = email_receive(raw, endpoint=endpoint)
    except InvalidInput as exc:
        logger.warning("IMAP %s uid %s refused: %s", endpoint.code, uid, exc)
        return "refused"
    except DatabaseError:
        logger.exception("IMAP %s uid %s not stored; left unread", endpoint.code, uid)
        return "failed"
    return OUTCOME_COUNTS.get(IntakeOutcome(result.outcome), "added")


def email_endpoint_get(code: str) -> ChannelEndpoint:
    endpoint = ChannelEndpoint.objects.filter(code=code, channel=Channel.EMAIL).first()
    if endpoint is None:
        raise EndpointNotFound(f"no e-mail endpoint {code!r}")
    return endpoint
