"""Liveness and readiness for load balancers and orchestrators."""

from __future__ import annotations

import socket
from urllib.parse import urlparse

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse


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


def readyz(request: HttpRequest) -> JsonResponse:
    """The database (and Redis, when configured) can be reached."""
    checks: dict[str, str] = {}
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
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503
    )
