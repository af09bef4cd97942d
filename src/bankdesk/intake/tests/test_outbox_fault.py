"""Fault test: a worker killed with SIGKILL mid-batch loses and doubles nothing.

100 SMS replies wait in the outbox; a real `bankdesk worker` process sends them to a slow fake
provider on loopback and is killed (-9) part way. A new worker takes over once the dead one's
leases run out; the provider must then have taken each message exactly once, recognising the
resends of messages it took just before the kill by their idempotency keys.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.db import connection

from bankdesk.intake.choices import OutboxStatus
from bankdesk.intake.models import OutboxMessage
from bankdesk.intake.services import case_reply
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


def _start_worker(tmp_path: Path, module: str, log_name: str) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE=module,
        PYTHONPATH=os.pathsep.join([str(tmp_path), *sys.path]),
        BANKDESK_OUTBOX_LEASE_SECONDS=str(LEASE_SECONDS),
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
