"""GET /api/v1/sla/calendars/{code}/deadline on the seeded calendars."""

from __future__ import annotations

import pytest

from bankdesk.sla.services import calendars_seed

URL = "/sla/calendars/{}/deadline"


@pytest.fixture
def seeded(db: None) -> None:
    calendars_seed()  # the data migration already did; this guards against a flushed database


@pytest.mark.parametrize(
    ("code", "start", "minutes", "deadline"),
    [
        # National Day week (1–7 October 2026) is skipped.
        ("cn-mainland", "2026-09-30T16:00:00+08:00", 120, "2026-10-08T10:00:00+08:00"),
        # Sunday 20 September 2026 is a 调休 working day.
        ("cn-mainland", "2026-09-19T10:00:00+08:00", 60, "2026-09-20T10:00:00+08:00"),
        ("cn-mainland", "2026-09-29T08:00:00Z", 60, "2026-09-29T17:00:00+08:00"),
        ("cn-mainland", "2026-09-30T17:00:00+08:00", 0, "2026-10-08T09:00:00+08:00"),
        ("hk", "2026-09-21T12:30:00+08:00", 60, "2026-09-21T14:30:00+08:00"),
        ("24x7", "2026-09-30T23:30:00+08:00", 45, "2026-09-30T16:15:00+00:00"),
    ],
)
def test_the_deadline_is_business_minutes_after_start_in_the_calendars_zone(
    seeded, agent_api, code, start, minutes, deadline
):
    response = agent_api.get(URL.format(code), start=start, minutes=minutes)
    assert response.status_code == 200, response.json_body
    assert response.json_body["deadline"] == deadline
    assert response.json_body["is_provisional"] is False  # all within the published years


@pytest.mark.parametrize(
    ("code", "params", "status", "error", "field"),
    [
        (
            "nowhere",
            {"start": "2026-09-30T16:00:00+08:00", "minutes": 1},
            404,
            "calendar_not_found",
            "code",
        ),
        (
            "cn-mainland",
            {"start": "2026-09-30T16:00:00+08:00", "minutes": -1},
            422,
            "invalid",
            "minutes",
        ),
        (
            "cn-mainland",
            {"start": "2026-09-30T16:00:00+08:00", "minutes": 10_000_001},
            422,
            "invalid",
            "minutes",
        ),
        ("cn-mainland", {"start": "2026-09-30T16:00:00", "minutes": 1}, 422, "invalid", "start"),
        (
            "cn-mainland",
            {"start": "9999-01-01T09:00:00+08:00", "minutes": 1},
            422,
            "invalid",
            "start",
        ),
        ("cn-mainland", {"start": "tomorrow", "minutes": 1}, 422, "invalid", "start"),
        ("cn-mainland", {"minutes": 1}, 422, "invalid", "start"),
        (
            "cn-mainland",
            {"start": "2200-06-01T09:00:00+08:00", "minutes": 10_000_000},
            422,
            "deadline_out_of_range",
            "minutes",
        ),
        (
            "24x7",
            {"start": "2200-12-31T23:59:00+00:00", "minutes": 2},
            422,
            "deadline_out_of_range",
            "minutes",
        ),
        ("bad code!", {"start": "2026-09-30T16:00:00+08:00", "minutes": 1}, 422, "invalid", "code"),
    ],
)
def test_bad_input_gets_a_clear_code(seeded, agent_api, code, params, status, error, field):
    response = agent_api.get(URL.format(code), **params)
    assert response.status_code == status
    assert response.json_body["code"] == error
    assert response.json_body["field"] == field


def test_a_caller_without_credentials_is_refused(seeded, anonymous_api):
    response = anonymous_api.get(
        URL.format("cn-mainland"), start="2026-09-30T16:00:00+08:00", minutes=1
    )
    assert response.status_code == 401
