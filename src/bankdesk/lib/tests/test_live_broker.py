"""The broker `bankdesk up` runs without Redis: a group notice sent in one process reaches the
group's members in another, and a broker out of reach costs notices, never the write."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import select
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import async_to_sync

from bankdesk.lib.live import group_notify
from bankdesk.lib.live_broker import BrokeredChannelLayer, LiveBroker

# Another OS process, joined to a group through the broker: it prints the first notice its
# member receives.
MEMBER = """
import asyncio, json, sys
from bankdesk.lib.live_broker import BrokeredChannelLayer

async def main():
    layer = BrokeredChannelLayer(broker=sys.argv[1])
    channel = await layer.new_channel()
    await layer.group_add("case-7", channel)
    print("joined", flush=True)
    print(json.dumps(await layer.receive(channel)), flush=True)

asyncio.run(main())
"""


def _line(process: subprocess.Popen[str], timeout: float = 30) -> str:
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    assert ready, f"no line from process {process.pid} within {timeout}s"
    return process.stdout.readline().strip()


def _until(condition: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the broker never saw the listener"
        time.sleep(0.05)


@pytest.fixture
def broker(tmp_path: Path) -> Any:
    running = LiveBroker(tmp_path / "run" / "live.sock")
    running.start()
    yield running
    running.stop()


def test_the_broker_socket_is_for_its_owner_only(broker: LiveBroker) -> None:
    assert broker.path.stat().st_mode & 0o777 == 0o600
    assert broker.path.parent.stat().st_mode & 0o777 == 0o700


def test_a_group_notice_sent_in_one_process_reaches_the_member_in_another(
    broker: LiveBroker,
) -> None:
    member = subprocess.Popen(
        [sys.executable, "-c", MEMBER, str(broker.path)],
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert _line(member) == "joined"
        assert broker.listener_count == 1
        sender = BrokeredChannelLayer(broker=str(broker.path))
        async_to_sync(sender.group_send)("case-8", {"type": "case.message", "case_id": 8})
        async_to_sync(sender.group_send)(
            "case-7", {"type": "case.message", "case_id": 7, "message_id": 11}
        )
        received = json.loads(_line(member))
    finally:
        member.kill()
        member.wait()
    # The notice for another case went nowhere; this case's notice arrived as it was sent.
    assert received == {"type": "case.message", "case_id": 7, "message_id": 11}


def test_a_notice_reaches_the_senders_own_members_once(broker: LiveBroker) -> None:
    async def scenario() -> list[dict[str, Any]]:
        layer = BrokeredChannelLayer(broker=str(broker.path))
        channel = await layer.new_channel()
        await layer.group_add("chat-t1", channel)
        await layer.group_send("chat-t1", {"type": "chat.notify"})
        received = [await asyncio.wait_for(layer.receive(channel), 10)]
        # Had the broker echoed it back, a second copy would now be queued for the member.
        await layer.group_send("chat-t1", {"type": "chat.typing", "is_typing": True})
        received.append(await asyncio.wait_for(layer.receive(channel), 10))
        await layer.close()
        return received

    assert asyncio.run(scenario()) == [
        {"type": "chat.notify"},
        {"type": "chat.typing", "is_typing": True},
    ]


def test_without_its_broker_a_process_serves_its_own_members_and_joins_once_it_is_back(
    tmp_path: Path,
) -> None:
    path = tmp_path / "run" / "live.sock"

    async def scenario() -> None:
        layer = BrokeredChannelLayer(broker=str(path))
        channel = await layer.new_channel()
        await layer.group_add("chat-t1", channel)
        await layer.group_send("chat-t1", {"type": "chat.notify"})
        assert await asyncio.wait_for(layer.receive(channel), 10) == {"type": "chat.notify"}

        broker = LiveBroker(path)
        broker.start()
        try:
            await asyncio.to_thread(_until, lambda: broker.listener_count == 1)
            other_process = BrokeredChannelLayer(broker=str(path))
            await other_process.group_send("chat-t1", {"type": "chat.typing", "is_typing": True})
            assert await asyncio.wait_for(layer.receive(channel), 10) == {
                "type": "chat.typing",
                "is_typing": True,
            }
        finally:
            await layer.close()
            broker.stop()

    asyncio.run(scenario())


def test_a_broker_out_of_reach_never_fails_the_notifying_write(
    settings: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "bankdesk.lib.live_broker.BrokeredChannelLayer",
            "CONFIG": {"broker": str(tmp_path / "nobody-listens.sock")},
        }
    }
    with caplog.at_level(logging.WARNING, logger="bankdesk.lib.live_broker"):
        assert group_notify("case-1", {"type": "case.message", "case_id": 1, "message_id": 2})
    assert "could not pass a notice to the live broker" in caplog.text


def test_a_stale_socket_left_by_a_killed_up_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "run" / "live.sock"
    path.parent.mkdir()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as killed:
        killed.bind(str(path))  # the file stays behind, and nobody listens on it
    broker = LiveBroker(path)
    broker.start()
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            probe.connect(str(path))
    finally:
        broker.stop()
    assert not path.exists()
