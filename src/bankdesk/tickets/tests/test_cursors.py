"""Keyset cursors from outside: anything bankdesk did not issue is a 422 on both lists."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bankdesk.intake.channels.base import InboundMessage
from bankdesk.intake.services import inbound_receive
from bankdesk.tickets.models import Case

pytestmark = pytest.mark.django_db


def hand_made(value: Any) -> str:
    """A cursor as a caller could forge one: the same encoding bankdesk uses, any content."""
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.fixture
def lists(customer, general_team) -> list[str]:
    """The case list and the customer's timeline, each with something on it to page through:
    an empty list answers without ever putting the cursor to the database."""
    case = inbound_receive(
        InboundMessage(
            channel="sms",
            external_id="s1",
            text="我的卡被锁了",
            sender_kind="phone",
            sender_value="13812345678",
            thread_id="13812345678",
        )
    ).case
    assert case is not None
    Case.objects.filter(pk=case.pk).update(team=general_team)
    return ["/cases", f"/customers/{customer.pk}/timeline"]


@pytest.mark.parametrize(
    "cursor",
    [
        hand_made(["0001-01-01T00:00:00+01:00", 1]),
        hand_made(["9999-12-31T23:59:59-01:00", 1]),
        hand_made(["1000-01-01T00:00:00+00:00", 1]),
        hand_made(["2026-10-01T09:00:00", 1]),
        hand_made(["2026-10-01T09:00:00+08:00", True]),
        hand_made(["2026-10-01T09:00:00+08:00", 2**70]),
        hand_made(["2026-10-01T09:00:00+08:00", 0]),
        hand_made(["2026-10-01T09:00:00+08:00", 1, 2]),
        hand_made({"created_at": "2026-10-01T09:00:00+08:00", "id": 1}),
        hand_made([[[[[[[[["2026-10-01T09:00:00+08:00"]]]]]]]], 1]),
        hand_made(b'["2026-10-01T09:00:00+08:00", 1, \xff]'),
        hand_made(b'["2026-10-01T09:00:00+08:00", 1e999]'),
        "!!not base64!!",
        "5L2g5aW9",  # base64 of 你好: text, not JSON
    ],
    ids=[
        "year-1-east-of-utc",
        "year-9999-west-of-utc",
        "year-1000",
        "no-offset",
        "bool-id",
        "huge-id",
        "zero-id",
        "three-parts",
        "object",
        "nested",
        "not-utf-8",
        "infinite",
        "not-base64",
        "not-json",
    ],
)
def test_a_hand_made_cursor_is_a_422_naming_the_cursor_on_both_lists(agent_api, lists, cursor):
    for path in lists:
        response = agent_api.get(path, cursor=cursor)

        assert response.status_code == 422, (path, response.json_body)
        assert response.json_body["code"] == "invalid_cursor"
        assert response.json_body["field"] == "cursor"
        assert len(agent_api.get(path).json_body["items"]) == 1  # and the list still serves


moments = st.builds(
    lambda moment, minutes: moment.replace(tzinfo=timezone(timedelta(minutes=minutes))),
    # The ends of the calendar first: an offset there cannot even be converted to UTC.
    st.sampled_from([datetime.min, datetime.max]) | st.datetimes(),
    st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1),
)
forged = st.one_of(
    st.tuples(moments.map(datetime.isoformat), st.integers()).map(list).map(hand_made),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda inner: st.lists(inner, max_size=3),
        max_leaves=8,
    ).map(hand_made),
    st.binary(max_size=120).map(hand_made),
    st.text(max_size=200),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cursor=forged)
def test_no_cursor_from_outside_is_a_server_error(agent_api, lists, cursor):
    for path in lists:
        response = agent_api.get(path, cursor=cursor)

        # A forged cursor naming a real place in range is harmless: it pages from there.
        assert response.status_code in {200, 422}, (path, cursor, response.json_body)
