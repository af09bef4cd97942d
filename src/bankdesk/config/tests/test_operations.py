"""Health endpoints, request ids and structured logs."""

from __future__ import annotations

import json
import logging

import pytest

from bankdesk.lib.jsonlog import JsonFormatter, RequestIdFilter
from bankdesk.lib.requestid import request_id_var

pytestmark = pytest.mark.django_db


def test_healthz_answers_without_touching_anything(client):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_checks_the_database(client):
    body = client.get("/readyz").json()
    assert body == {"status": "ok", "checks": {"database": "ok"}}


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
