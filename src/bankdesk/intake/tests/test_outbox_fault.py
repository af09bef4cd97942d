"""Fault test: a worker killed with SIGKILL mid-batch loses and doubles nothing.

100 SMS replies wait in the outbox; a real `bankdesk worker` process sends them to a slow fake
provider on loopback and is killed (-9) part way. A new worker takes over once the dead one's
leases run out; the provider must then have taken each message exactly once, recognising the
resends of messages it took just before the kill by their idempotency keys.
"""

from __future__ import annotations

import asyncio
import email
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from bankdesk.intake.channels.email.inbox import email_receive
from bankdesk.intake.choices import OutboxStatus
from bankdesk.intake.models import ChannelEndpoint, OutboxMessage
from bankdesk.intake.outbox import outbox_deliver
from bankdesk.intake.services import case_reply
from bankdesk.intake.tests.test_email_outbound import BANK, free_port
from bankdesk.intake.tests.test_email_outbound import FIXTURES as EMAIL_FIXTURES
from bankdesk.intake.tests.test_sms_provider import FakeProvider, sms_case, sms_endpoint

MESSAGES = 100
LEASE_SECONDS = 3
DRAIN_TIMEOUT = 120


def _worker_settings(tmp_path: Path) -> str:
    """A settings module for the worker processes that points them at this test's database
    (a file under BANKDESK_HOME on SQLite, test_<name> on PostgreSQL)."""
    name = connection.settings_dict["NAME"]
    (tmp_path / "fault_settings.py").write_text(
        "from bankdesk.config.settings import *  # noqa: F403\n"
        f'DATABASES["default"]["NAME"] = {str(name)!r}  # noqa: F405\n',
        encoding="utf-8",
    )
    return "fault_settings"


def _start_worker(
    tmp_path: Path,
    module: str,
    log_name: str,
    *,
    lease: int = LEASE_SECONDS,
    **environment: str,
) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE=module,
        PYTHONPATH=os.pathsep.join([str(tmp_path), *sys.path]),
        BANKDESK_OUTBOX_LEASE_SECONDS=str(lease),
        **environment,
    )
    log = (tmp_path / log_name).open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "bankdesk.config.cli", "worker", "--interval", "0.1"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _wait(condition: Callable[[], bool], timeout: float, what: str) -> float:
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < timeout, f"timed out waiting for {what}"
        time.sleep(0.02)
    return time.monotonic() - start


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


@pytest.mark.django_db(transaction=True)
def test_a_killed_worker_neither_loses_nor_repeats_a_message(agent, tmp_path):
    with FakeProvider(delay=0.05) as provider:
        sms_endpoint(provider.url)
        items = [
            case_reply(case=sms_case(f"139{n:08d}"), text=f"第{n}条回复", actor=agent)[1]
            for n in range(MESSAGES)
        ]
        keys = {item.idempotency_key for item in items}
        module = _worker_settings(tmp_path)
        workers = [_start_worker(tmp_path, module, "worker-1.log")]
        try:
            _wait(lambda: len(provider.accepted) >= 20, 90, "the first worker to send")
            os.kill(workers[0].pid, signal.SIGKILL)
            workers[0].wait(timeout=30)
            before_kill = len(provider.accepted)
            recorded_before_kill = OutboxMessage.objects.filter(status=OutboxStatus.SENT).count()
            assert before_kill < MESSAGES, "the worker finished before it could be killed"

            workers.append(_start_worker(tmp_path, module, "worker-2.log"))
            drain = _wait(
                lambda: OutboxMessage.objects.filter(status=OutboxStatus.SENT).count() == MESSAGES,
                DRAIN_TIMEOUT,
                "the second worker to send the rest",
            )
        finally:
            for worker in workers:
                _stop(worker)

    print(  # the figures for the report (pytest -s)
        f"\nfault test: {before_kill} taken by the provider before the kill "
        f"({recorded_before_kill} recorded sent), {provider.raw_requests} requests for "
        f"{len(provider.accepted)} messages, drained {drain:.1f} s after the restart"
    )
    assert set(provider.accepted) == keys
    assert set(provider.deliveries.values()) == {1}
    assert sum(provider.deliveries.values()) == MESSAGES
    assert OutboxMessage.objects.filter(status=OutboxStatus.SENT).count() == MESSAGES
    assert not OutboxMessage.objects.filter(status=OutboxStatus.DEAD).exists()
    ids = OutboxMessage.objects.values_list("provider_message_id", flat=True)
    assert len(set(ids)) == MESSAGES


SLOW_MESSAGES = 4
SLOW_LEASE_SECONDS = 1
SLOW_SEND_SECONDS = 2.5


@pytest.mark.django_db(transaction=True)
def test_two_workers_never_send_a_message_twice_when_each_send_outlasts_the_lease(agent, tmp_path):
    # Every send takes longer than the lease, as WeChat's or a busy provider's can. A worker
    # must hold the message it is sending for as long as the send runs, or the other worker
    # takes it over and the customer receives it twice (WeChat cannot recognise a resend).
    with FakeProvider(delay=SLOW_SEND_SECONDS) as provider:
        sms_endpoint(provider.url)
        items = [
            case_reply(case=sms_case(f"137{n:08d}"), text=f"第{n}条回复", actor=agent)[1]
            for n in range(SLOW_MESSAGES)
        ]
        module = _worker_settings(tmp_path)
        workers = [
            _start_worker(tmp_path, module, f"slow-{n}.log", lease=SLOW_LEASE_SECONDS)
            for n in (1, 2)
        ]
        try:
            _wait(
                lambda: (
                    OutboxMessage.objects.filter(status=OutboxStatus.SENT).count() == SLOW_MESSAGES
                ),
                DRAIN_TIMEOUT,
                "both workers to send everything",
            )
        finally:
            for worker in workers:
                _stop(worker)

    sends = Counter(request["headers"]["Idempotency-Key"] for request in provider.requests)
    assert sends == Counter({item.idempotency_key: 1 for item in items if item is not None})
    assert set(OutboxMessage.objects.values_list("attempts", flat=True)) == {1}


class HoldingRelay:
    """A mail relay that keeps each mail and then holds its answer until released: a worker
    killed while it waits has had its mail taken but never hears so."""

    def __init__(self) -> None:
        self.received: list[bytes] = []
        self.release = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append(envelope.content)
        while not self.release.is_set():
            await asyncio.sleep(0.05)
        return "250 OK"


@pytest.mark.django_db(transaction=True)
def test_a_mail_resent_after_a_crash_carries_the_same_message_id(agent, tmp_path):
    relay = HoldingRelay()
    port = free_port()
    controller = Controller(relay, hostname="127.0.0.1", port=port)
    controller.start()
    endpoint = ChannelEndpoint.objects.create(
        code="mailbox", channel="email", name="客服邮箱", settings={"addresses": [BANK]}
    )
    try:
        case = email_receive((EMAIL_FIXTURES / "first.eml").read_bytes()).case
        assert case is not None
        _, item = case_reply(case=case, text="您好，提前还款需要带身份证。", actor=agent)
        assert item is not None
        module = _worker_settings(tmp_path)
        worker = _start_worker(
            tmp_path, module, "mail-worker.log", BANKDESK_SMTP_RELAY=f"127.0.0.1:{port}"
        )
        try:
            _wait(lambda: len(relay.received) == 1, 90, "the relay to take the mail")
        finally:
            _stop(worker)  # after the relay took the mail, before the worker heard so
        relay.release.set()
        item.refresh_from_db()
        assert item.status == OutboxStatus.SENDING
        # The bank moves its service mailbox before the retry: the mail already out named the
        # old one, and the resend must still be recognisable as the same mail.
        endpoint.settings = {"addresses": ["kefu@mail.bank.example"]}
        endpoint.save()

        with override_settings(BANKDESK_SMTP_RELAY=f"127.0.0.1:{port}"):
            outbox_deliver(now=timezone.now() + timedelta(seconds=LEASE_SECONDS + 1))
    finally:
        controller.stop()

    item.refresh_from_db()
    assert item.status == OutboxStatus.SENT and item.attempts == 2
    first, resent = (email.message_from_bytes(raw, policy=default_policy) for raw in relay.received)
    sent_id = f"bd.{item.payload_data()['reply_token']}.{item.idempotency_key}@bank.example"
    assert first["Message-ID"] == resent["Message-ID"] == f"<{sent_id}>"
    assert item.provider_message_id == sent_id
