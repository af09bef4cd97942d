"""The customer's chat socket, fuzzed: no frame is answered with an unhandled error or a close.

Each example opens a chat from an address and sends a few hostile frames from `hostile` (the
protocol's own frames with any values, JSON nested past the stack, numbers past Python's digit
limit, NaN, repeated keys, lone surrogates, binary). Every answer must be a frame of the
protocol; the consumer must not raise (the communicator would re-raise it here) nor close the
socket; and the same chat must then still take a message and acknowledge it.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bankdesk.intake.channels.webchat import consumers
from bankdesk.intake.models import ChannelEndpoint
from bankdesk.intake.tests.hostile import field, json_values, nested_json, texts

# fresh_layer: the protocol tests' autouse fixture, so each test starts on an empty layer.
from bankdesk.intake.tests.test_webchat_protocol import chat, fresh_layer  # noqa: F401
from bankdesk.intake.tests.websocket_client import WebsocketCommunicator
from bankdesk.tickets.models import Message

pytestmark = pytest.mark.django_db(transaction=True)

FRAME_TYPES = {"welcome", "ack", "message", "typing", "error"}

protocol_frames = st.fixed_dictionaries(
    {"type": field("hello", "message", "typing")},
    optional={
        "client_id": field("c1", "c-2_x"),
        "text": field("你好", "我要挂失"),
        "session_id": field("not-a-session"),
        "customer_token": field("a.b"),
        "last_seq": st.integers() | json_values,
        "is_typing": json_values,
    },
)
text_frames = st.one_of(
    protocol_frames.map(json.dumps),
    json_values.map(json.dumps),
    nested_json(consumers.FRAME_MAX).map(lambda raw: raw.decode()),
    st.integers(min_value=4000, max_value=6000).map(
        lambda digits: '{"type": "hello", "last_seq": ' + "9" * digits + "}"
    ),
    st.sampled_from(
        [
            "",
            "NaN",
            '{"type": "hello", "last_seq": Infinity}',
            '{"type": "message", "type": "hello"}',
            '{"type": "message", "client_id": "c1", "text": "\\ud800"}',
            '{"type": "message", "client_id": "c1", "text": "a\\u0000b"}',
        ]
    ),
    texts,
)
frames = st.one_of(text_frames, st.binary(max_size=200))


async def answers(communicator: WebsocketCommunicator, until_ack: str) -> list[dict[str, Any]]:
    """Every frame the chat sends until the acknowledgement of `until_ack`; each must be one
    the protocol knows, and no close may come."""
    seen: list[dict[str, Any]] = []
    while True:
        output = await communicator.receive_output(5)
        assert output["type"] == "websocket.send", output  # a close, unasked for
        frame = json.loads(output["text"])
        assert frame["type"] in FRAME_TYPES, frame
        seen.append(frame)
        if frame["type"] == "ack" and frame.get("client_id") == until_ack:
            return seen


def test_the_chat_socket_survives_any_frames(chat_limits_lifted):
    ChannelEndpoint.objects.create(code="web-fuzz", channel="web_chat", name="web chat fuzz")
    numbers = itertools.count()

    async def scenario(sent: list[str | bytes]) -> None:
        communicator = chat()
        assert (await communicator.connect())[0]
        for frame in sent:
            key = "bytes" if isinstance(frame, bytes) else "text"
            await communicator.send_input({"type": "websocket.receive", key: frame})
        # Whatever the frames did, the same chat takes a good message afterwards.
        await communicator.send_json_to({"type": "hello"})
        client_id = f"fuzz-ok-{next(numbers)}"
        await communicator.send_json_to({"type": "message", "client_id": client_id, "text": "好"})
        await answers(communicator, until_ack=client_id)
        await communicator.disconnect()

    @settings(
        max_examples=40,
        derandomize=True,  # the same frames every run, as .ci/fuzz-api fixes its seed
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(sent=st.lists(frames, min_size=1, max_size=3))
    # Tried on every run before the generated ones: the frames that killed the socket.
    @example(sent=["[" * 20_000])
    @example(sent=['{"type": "hello"}', '{"type": "message", "client_id": "c", "text": "\\u0000"}'])
    def hostile(sent: list[str | bytes]) -> None:
        async_to_sync(scenario)(sent)

    hostile()
    assert Message.objects.filter(text="好").exists()


@pytest.fixture
def chat_limits_lifted(settings: Any) -> None:
    """Every example is a new chat from one address: the per-address limits are not under
    test here (test_webchat_protocol has them), the frames are."""
    settings.BANKDESK_RATE_LIMIT_CHAT_SESSIONS = "100000/60"
    settings.BANKDESK_RATE_LIMIT_CHAT_FRAMES = "100000/60"
