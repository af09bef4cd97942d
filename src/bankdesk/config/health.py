"""Liveness and readiness for load balancers and orchestrators."""

from __future__ import annotations

import socket
from typing import Any
from urllib.parse import urlparse

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse

from bankdesk.sla.selectors import calendar_horizon_warnings


def healthz(request: HttpRequest) -> JsonResponse:
    """The process is alive and answering."""
    return JsonResponse({"status": "ok"})


def _redis_ping(url: str) -> None:
    """PING over a plain socket: readiness must not need the redis client installed."""
    parsed = urlparse(url)
    with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 6379), 2) as sock:
        if parsed.password:
            sock.sendall(f"AUTH {parsed.password}\r\n".encode())
            if not sock.recv(64).startswith(b"+OK"):
                raise ConnectionError("redis refused the password")
        sock.sendall(b"PING\r\n")
        if not sock.recv(64).startswith(b"+PONG"):
            raise ConnectionError("redis did not answer PING")


def _calendar_warnings() -> list[dict[str, Any]]:
    return [
        {
            "check": "calendars",
            "calendar": horizon.code,
            "known_until": horizon.known_until.isoformat(),
            "days_left": horizon.days_left,
            "message": horizon.describe(),
        }
        for horizon in calendar_horizon_warnings()
    ]


def readyz(request: HttpRequest) -> JsonResponse:
    """The database (and Redis, when configured) can be reached: 200, else 503.

    What a load balancer needs is the status code, and only an unreachable store turns it to
    503. Things administrators must act on soon while the bank goes on working (a calendar
    whose published holidays are running out) make the body's status "warning", with details.
    """
    checks: dict[str, str] = {}
    warnings: list[dict[str, Any]] = []
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # any failure means not ready; say which
        checks["database"] = f"error: {type(exc).__name__}"
    if settings.REDIS_URL:
        try:
            _redis_ping(settings.REDIS_URL)
            checks["redis"] = "ok"
        except (OSError, ConnectionError) as exc:
            checks["redis"] = f"error: {type(exc).__name__}"
    if checks["database"] == "ok":
        try:
            warnings = _calendar_warnings()
            checks["calendars"] = "warning" if warnings else "ok"
        except DatabaseError as exc:  # reachable, but not usable (not migrated?)
            checks["calendars"] = f"error: {type(exc).__name__}"
    ready = all(value in {"ok", "warning"} for value in checks.values())
    body: dict[str, Any] = {"status": "unavailable", "checks": checks}
    if ready:
        body["status"] = "warning" if warnings else "ok"
    if warnings:
        body["warnings"] = warnings
    return JsonResponse(body, status=200 if ready else 503)
