"""Signed-in staff are signed out after a period without activity."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest

_LAST_SEEN = "bankdesk_last_seen"


class IdleTimeoutMiddleware:
    """An unattended console in a branch or call centre must not stay signed in."""

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> Any:
        if request.user.is_authenticated and hasattr(request, "session"):
            now = int(time.time())
            last_seen = request.session.get(_LAST_SEEN)
            limit = settings.BANKDESK_IDLE_TIMEOUT_MINUTES * 60
            if isinstance(last_seen, int) and now - last_seen > limit:
                logout(request)
            else:
                request.session[_LAST_SEEN] = now
        return self.get_response(request)
