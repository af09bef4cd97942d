"""The JSON API at /api/v1/: authentication, the error contract and the app routers."""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser
from ninja.security import HttpBearer, SessionAuth

from bankdesk.analytics.api import router as kpis_router
from bankdesk.assistant.api import customer_router as customer_dialogues_router
from bankdesk.assistant.api import router as assistant_router
from bankdesk.customers.api import router as customers_router
from bankdesk.feedback.api import router as feedback_router
from bankdesk.intake.desk_api import merge_router, reply_router
from bankdesk.knowledge.api import case_router as knowledge_case_router
from bankdesk.knowledge.api import router as knowledge_router
from bankdesk.lib.errors import BankdeskError, PermissionDenied
from bankdesk.lib.json_input import json_input_parse
from bankdesk.lib.unavailable import unavailable_response
from bankdesk.security.api import router as audit_router
from bankdesk.security.ratelimit import Limit, rate_limit_hit
from bankdesk.sla.api import router as sla_router
from bankdesk.staff.api import router as staff_router
from bankdesk.staff.choices import TokenScope
from bankdesk.staff.mfa import mfa_required_for
from bankdesk.staff.models import User
from bankdesk.staff.selectors import api_token_authenticate
from bankdesk.tickets.api import categories_router
from bankdesk.tickets.api import router as cases_router
from bankdesk.tickets.routing_api import router as routing_router
from bankdesk.tickets.timeline_api import timeline_router

logger = logging.getLogger("bankdesk.api")


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class BearerToken(HttpBearer):
    """`Authorization: Bearer <token>` for integrations: rate-limited per token, scoped."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        found = api_token_authenticate(token)
        if found is None:
            return None
        rate_limit_hit(f"api:token:{found.pk}", token_limit())
        if request.method not in SAFE_METHODS and found.scope != TokenScope.WRITE:
            raise PermissionDenied("this token may only read", code="token_read_only")
        return found.user


class StaffSession(SessionAuth):
    """The staff screens' own session, with CSRF on unsafe methods and the second factor done."""

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        user = request.user
        if not (isinstance(user, User) and user.is_authenticated and user.is_active):
            return None
        if mfa_required_for(user) and not user.is_verified():  # type: ignore[attr-defined]
            return None
        return user


@lru_cache(maxsize=1)
def token_limit() -> Limit:
    return Limit.parse(settings.BANKDESK_RATE_LIMIT_TOKEN, "BANKDESK_RATE_LIMIT_TOKEN")


class BoundedJsonParser(Parser):
    """Request bodies through bankdesk's one reader of outside JSON: nesting past its limit,
    NaN, a repeated key or half a surrogate pair is a 400, as any body that is not JSON."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        body = request.body  # already bounded by DATA_UPLOAD_MAX_MEMORY_SIZE
        parsed: dict[str, Any] = json_input_parse(
            body, max_size=settings.DATA_UPLOAD_MAX_MEMORY_SIZE or len(body)
        )
        return parsed


api = NinjaAPI(
    title="bankdesk API",
    version="1",
    description="Cases, customers and staff of the bankdesk service centre.",
    urls_namespace="api",
    auth=[BearerToken(), StaffSession()],
    parser=BoundedJsonParser(),
)


def _error(
    request: HttpRequest, status: int, code: str, message: str, field: str | None = None
) -> HttpResponse:
    return api.create_response(
        request, {"code": code, "message": message, "field": field}, status=status
    )


@api.exception_handler(BankdeskError)
def _bankdesk_error(request: HttpRequest, exc: BankdeskError) -> HttpResponse:
    response = _error(request, exc.status, exc.code, exc.message, exc.field)
    for name, value in exc.headers.items():
        response[name] = value
    return response


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    first: dict[str, Any] = exc.errors[0] if exc.errors else {}
    location = [
        str(part)
        for part in first.get("loc", ())
        if part not in {"body", "query", "path", "payload"}
    ]
    message = str(first.get("msg", "invalid input"))
    return _error(request, 422, "invalid", message, ".".join(location) or None)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, "unauthenticated", "a valid token or session is required")


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    code = "bad_request" if exc.status_code == 400 else f"http_{exc.status_code}"
    return _error(request, exc.status_code, code, str(exc))


@api.exception_handler(MultiPartParserError)
@api.exception_handler(RequestDataTooBig)
@api.exception_handler(TooManyFieldsSent)
def _unparseable_upload(request: HttpRequest, exc: Exception) -> HttpResponse:
    return _error(request, 400, "bad_request", f"the request body cannot be read: {exc}")


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, "not_found", "not found")


@api.exception_handler(OperationalError)
@api.exception_handler(InterfaceError)
def _database_unavailable(request: HttpRequest, exc: Exception) -> HttpResponse:
    return unavailable_response(request, exc)


@api.exception_handler(Exception)
def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("unexpected error in %s %s", request.method, request.path)
    return _error(request, 500, "internal_error", "bankdesk could not complete this request")


api.add_router("/staff", staff_router)
api.add_router("/customers", customers_router)
api.add_router("/customers", timeline_router)
api.add_router("/customers", customer_dialogues_router)
api.add_router("/customers", merge_router)
api.add_router("/cases", cases_router)
api.add_router("/cases", reply_router)
api.add_router("/categories", categories_router)
api.add_router("/sla", sla_router)
api.add_router("/routing", routing_router)
api.add_router("/intake", "bankdesk.intake.api.router")
api.add_router("/knowledge", knowledge_router)
api.add_router("/cases", knowledge_case_router)
api.add_router("/assistant", assistant_router)
api.add_router("/audit", audit_router)
api.add_router("/feedback", feedback_router)
api.add_router("/kpis", kpis_router)
