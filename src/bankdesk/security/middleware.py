"""Per-address rate limits in front of the API and the public endpoints."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cached_property
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from bankdesk.lib.errors import RateLimited
from bankdesk.security.ratelimit import Limit, rate_limit_hit

# Public endpoints reachable without signing in: the survey page and the page an event
# invitation links to (personalization:event_page).
PUBLIC_PREFIXES = ("/survey/", "/e/")
# Where channels' providers and the chat widget call in: a provider's few servers carry every
# customer's messages, so they get their own, larger allowance.
WEBHOOK_PREFIXES = ("/intake/",)


class RateLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response

    @cached_property
    def api_limit(self) -> Limit:
        return Limit.parse(settings.BANKDESK_RATE_LIMIT_ADDRESS, "BANKDESK_RATE_LIMIT_ADDRESS")

    @cached_property
    def public_limit(self) -> Limit:
        return Limit.parse(settings.BANKDESK_RATE_LIMIT_PUBLIC, "BANKDESK_RATE_LIMIT_PUBLIC")

    @cached_property
    def webhook_limit(self) -> Limit:
        return Limit.parse(settings.BANKDESK_RATE_LIMIT_WEBHOOK, "BANKDESK_RATE_LIMIT_WEBHOOK")

    def _bucket(self, request: HttpRequest) -> tuple[str, Limit] | None:
        path = request.path
        if path.startswith("/api/"):
            return "api", self.api_limit
        if path.startswith(WEBHOOK_PREFIXES):
            return "webhook", self.webhook_limit
        is_sign_in = request.method == "POST" and path in {"/", "/mfa/", "/mfa/enrol/"}
        if is_sign_in or path.startswith(PUBLIC_PREFIXES):
            return "public", self.public_limit
        return None

    def __call__(self, request: HttpRequest) -> Any:
        bucket = self._bucket(request)
        if bucket is not None:
            name, limit = bucket
            address = request.META.get("REMOTE_ADDR") or "unknown"
            try:
                rate_limit_hit(f"{name}:ip:{address}", limit)
            except RateLimited as exc:
                return rate_limited_response(exc)
        return self.get_response(request)


def rate_limited_response(exc: RateLimited) -> HttpResponse:
    response = HttpResponse(json.dumps(exc.as_body()), status=429, content_type="application/json")
    response["Retry-After"] = str(exc.retry_after)
    return response
