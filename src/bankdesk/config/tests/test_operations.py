"""Health endpoints, request ids and structured logs."""

from __future__ import annotations

import json
import logging
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from bankdesk.lib.jsonlog import JsonFormatter, RequestIdFilter
from bankdesk.lib.requestid import request_id_var

pytestmark = pytest.mark.django_db


def test_healthz_answers_without_touching_anything(client):
    assert client.get("/healthz").json() == {"status": "ok"}


def _mainland_known_until() -> date:
    from bankdesk.sla.models import BusinessCalendar

    known = BusinessCalendar.objects.get(code="cn-mainland").known_until
    assert known is not None
    return known


def _on(day: date) -> time_machine.travel:
    return time_machine.travel(datetime.combine(day, time(10), ZoneInfo("Asia/Shanghai")))


def test_readyz_checks_the_database(client):
    with _on(_mainland_known_until() - timedelta(weeks=20)):
        body = client.get("/readyz").json()
    assert body == {"status": "ok", "checks": {"database": "ok", "calendars": "ok"}}


@pytest.mark.parametrize("days_left", [28, 0, -40])
def test_readyz_warns_of_a_calendar_horizon_and_stays_ready(client, days_left):
    known_until = _mainland_known_until()
    with _on(known_until - timedelta(days=days_left)):
        response = client.get("/readyz")
    # A load balancer must keep sending traffic: the bank can work, its deadlines are at risk.
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "warning"
    assert body["checks"] == {"database": "ok", "calendars": "warning"}
    (warning,) = body["warnings"]
    assert warning["calendar"] == "cn-mainland"
    assert warning["known_until"] == known_until.isoformat()
    assert warning["days_left"] == days_left
    assert "cn-mainland" in warning["message"] and known_until.isoformat() in warning["message"]


def test_readyz_reports_an_unreachable_redis(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["redis"].startswith("error")


def test_every_response_carries_a_request_id_and_keeps_a_sane_one(client):
    generated = client.get("/healthz")["X-Request-ID"]
    assert len(generated) == 32
    assert (
        client.get("/healthz", headers={"X-Request-ID": "lb-abc12345"})["X-Request-ID"]
        == "lb-abc12345"
    )
    assert (
        client.get("/healthz", headers={"X-Request-ID": "bad id\n"})["X-Request-ID"] != "bad id\n"
    )


def test_log_lines_are_json_with_the_request_id():
    token = request_id_var.set("req-12345678")
    try:
        record = logging.LogRecord(
            "bankdesk.test", logging.INFO, __file__, 1, "案件 %s", ("C1",), None
        )
        RequestIdFilter().filter(record)
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_id_var.reset(token)
    assert line["message"] == "案件 C1"
    assert line["request_id"] == "req-12345678"
    assert line["level"] == "info"
