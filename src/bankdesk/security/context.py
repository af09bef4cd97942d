"""Who is acting and from where, for the audit chain, without threading it through every call."""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest

from bankdesk.lib.requestid import request_id_var

origin_ip_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "audit_origin_ip", default=None
)


def current_origin() -> tuple[str | None, str]:
    request_id = request_id_var.get()
    return origin_ip_var.get(), "" if request_id == "-" else request_id


class AuditOriginMiddleware:
    """Remembers the caller's address for the audit entries this request writes."""

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> Any:
        origin_ip_var.set(request.META.get("REMOTE_ADDR") or None)
        return self.get_response(request)
