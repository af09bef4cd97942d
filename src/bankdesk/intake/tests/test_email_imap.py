"""Polling an IMAP mailbox: a small IMAP4rev1 server on loopback speaks to the real imapclient.

The server knows only what a poll says (CAPABILITY, LOGIN, SELECT, UID SEARCH UNSEEN,
UID FETCH BODY.PEEK[], UID STORE +FLAGS, LOGOUT), keeps its mailbox in memory and serves
several connections at once, so two pollers can overlap as they would in production.
"""

from __future__ import annotations

import json
import re
import socketserver
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from bankdesk.intake.channels.email.imap import PollReport, mailbox_poll
from bankdesk.intake.models import ChannelEndpoint
from bankdesk.tickets.models import Case, Message

FIXTURES = Path(__file__).parent / "fixtures" / "email"
USERNAME = "service@bank.example"
PASSWORD = "imap-secret"

pytestmark = pytest.mark.django_db(transaction=True)


@dataclass
class Mailbox:
    messages: dict[int, bytes] = field(default_factory=dict)
    seen: set[int] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    commands: list[str] = field(default_factory=list)
    # When set, searches wait for each other: both pollers see every message as unread.
    search_together: threading.Barrier | None = None

    def add(self, raw: bytes) -> int:
        with self.lock:
            uid = max(self.messages, default=0) + 1
            self.messages[uid] = raw
            return uid


def _uids(spec: str) -> list[int]:
    found: list[int] = []
    for part in spec.split(","):
        low, _, high = part.partition(":")
        found.extend(range(int(low), int(high or low) + 1))
    return found


class ImapHandler(socketserver.StreamRequestHandler):
    server: ImapServer

    def send(self, line: str | bytes) -> None:
        data = line if isinstance(line, bytes) else line.encode()
        self.wfile.write(data + b"\r\n")

    def handle(self) -> None:
        mailbox = self.server.mailbox
        self.send("* OK [CAPABILITY IMAP4rev1] loopback test server ready")
        while raw := self.rfile.readline():
            tag, _, rest = raw.decode().rstrip("\r\n").partition(" ")
            command, _, arguments = rest.partition(" ")
            command = command.upper()
            with mailbox.lock:
                mailbox.commands.append(command if command != "UID" else f"UID {arguments}")
            if command == "CAPABILITY":
                self.send("* CAPABILITY IMAP4rev1")
                self.send(f"{tag} OK CAPABILITY completed")
            elif command == "LOGIN":
                user, password = (value.strip('"') for value in arguments.split(" ", 1))
                ok = (user, password) == (USERNAME, PASSWORD)
                self.send(f"{tag} OK LOGIN completed" if ok else f"{tag} NO bad credentials")
            elif command == "SELECT":
                self.send(f"* {len(mailbox.messages)} EXISTS")
                self.send("* 0 RECENT")
                self.send("* FLAGS (\\Seen)")
                self.send("* OK [UIDVALIDITY 1] UIDs valid")
                self.send(f"{tag} OK [READ-WRITE] SELECT completed")
            elif command == "UID":
                self.uid_command(tag, arguments)
            elif command == "LOGOUT":
                self.send("* BYE logging out")
                self.send(f"{tag} OK LOGOUT completed")
                return
            else:
                self.send(f"{tag} BAD unknown command")

    def uid_command(self, tag: str, arguments: str) -> None:
        mailbox = self.server.mailbox
        verb, _, rest = arguments.partition(" ")
        verb = verb.upper()
        if verb == "SEARCH":
            assert "UNSEEN" in rest.upper()
            if mailbox.search_together is not None:
                mailbox.search_together.wait(timeout=10)
            with mailbox.lock:
                unseen = [uid for uid in sorted(mailbox.messages) if uid not in mailbox.seen]
            self.send("* SEARCH" + "".join(f" {uid}" for uid in unseen))
        elif verb == "FETCH":
            spec, _, items = rest.partition(" ")
            assert "BODY.PEEK[]" in items.upper()  # fetching must not mark mail read
            for uid in _uids(spec):
                body = mailbox.messages.get(uid)
                if body is not None:
                    self.send(f"* {uid} FETCH (UID {uid} BODY[] {{{len(body)}}}".encode())
                    self.wfile.write(body + b")\r\n")
        elif verb == "STORE":
            spec, _, change = rest.partition(" ")
            assert re.match(r"\+FLAGS \(\\Seen\)", change, re.I)
            for uid in _uids(spec):
                with mailbox.lock:
                    mailbox.seen.add(uid)
                self.send(f"* {uid} FETCH (UID {uid} FLAGS (\\Seen))")
        else:
            self.send(f"{tag} BAD unknown UID command")
            return
        self.send(f"{tag} OK UID {verb} completed")


class ImapServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, mailbox: Mailbox) -> None:
        super().__init__(("127.0.0.1", 0), ImapHandler)
        self.mailbox = mailbox


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    server = ImapServer(box)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    box.port = server.server_address[1]  # type: ignore[attr-defined]
    yield box
    server.shutdown()
    server.server_close()


@pytest.fixture
def endpoint(mailbox: Mailbox) -> ChannelEndpoint:
    return ChannelEndpoint.objects.create(
        code="branch-mailbox",
        channel="email",
        name="分行邮箱",
        settings={
            "addresses": [USERNAME],
            "host": "127.0.0.1",
            "port": mailbox.port,  # type: ignore[attr-defined]
            "ssl": False,
            "username": USERNAME,
            "folder": "INBOX",
        },
        secrets=json.dumps({"password": PASSWORD}),
    )


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_a_poll_puts_unread_mail_on_cases_and_marks_it_read(
    mailbox: Mailbox, endpoint: ChannelEndpoint
) -> None:
    for name in ("gbk_subject.eml", "first.eml", "reply_in_reply_to.eml", "out_of_office.eml"):
        mailbox.add(fixture(name))

    report = mailbox_poll(endpoint=endpoint)

    assert report == PollReport(fetched=4, new_cases=2, added=1, ignored=1)
    assert mailbox.seen == {1, 2, 3, 4}
    assert Case.objects.count() == 2
    assert Case.objects.filter(subject="我的信用卡被盗刷了，请尽快处理").exists()
    assert mailbox.commands[-1] == "LOGOUT"


def test_a_second_poll_takes_only_new_mail(mailbox: Mailbox, endpoint: ChannelEndpoint) -> None:
    mailbox.add(fixture("first.eml"))
    mailbox_poll(endpoint=endpoint)
    mailbox.add(fixture("big5_body.eml"))

    report = mailbox_poll(endpoint=endpoint)

    assert report == PollReport(fetched=1, new_cases=1)
    assert Message.objects.count() == 2


def test_mail_seen_again_after_a_crash_is_stored_once(
    mailbox: Mailbox, endpoint: ChannelEndpoint
) -> None:
    mailbox.add(fixture("first.eml"))
    mailbox_poll(endpoint=endpoint)
    mailbox.seen.clear()  # the poller died before marking it read

    report = mailbox_poll(endpoint=endpoint)

    assert report == PollReport(fetched=1, duplicates=1)
    assert Message.objects.count() == 1


def test_two_overlapping_pollers_store_each_message_once(
    mailbox: Mailbox, endpoint: ChannelEndpoint
) -> None:
    for name in ("gbk_subject.eml", "first.eml", "big5_body.eml", "gb18030_body.eml"):
        mailbox.add(fixture(name))
    for number in range(16):
        mailbox.add(
            f"From: c{number}@example.cn\r\nMessage-ID: <bulk-{number}@example.cn>\r\n"
            f"Subject: test {number}\r\n\r\n第{number}封".encode()
        )
    reports: list[PollReport] = []
    mailbox.search_together = threading.Barrier(2)

    def poll() -> None:
        try:
            reports.append(mailbox_poll(endpoint=ChannelEndpoint.objects.get(pk=endpoint.pk)))
        finally:
            connection.close()

    pollers = [threading.Thread(target=poll) for _ in range(2)]
    for poller in pollers:
        poller.start()
    for poller in pollers:
        poller.join()

    assert len(reports) == 2
    assert sum(report.fetched for report in reports) == 40  # both took every message
    assert sum(report.new_cases for report in reports) == 20
    assert sum(report.duplicates for report in reports) == 20
    assert Message.objects.count() == 20
    assert Case.objects.count() == 20
    assert mailbox.seen == set(range(1, 21))


def test_unreadable_mail_is_marked_read_and_not_retried(
    mailbox: Mailbox, endpoint: ChannelEndpoint
) -> None:
    mailbox.add(b"Subject: no sender\r\n\r\nhello")

    report = mailbox_poll(endpoint=endpoint)

    assert report == PollReport(fetched=1, refused=1)
    assert mailbox.seen == {1}
    assert not Case.objects.exists()


def test_the_mail_poll_command(mailbox: Mailbox, endpoint: ChannelEndpoint) -> None:
    mailbox.add(fixture("first.eml"))
    out = StringIO()

    call_command("mail", "poll", "--endpoint", endpoint.code, stdout=out)

    assert "1 fetched, 1 new cases" in out.getvalue()
    assert Case.objects.count() == 1
