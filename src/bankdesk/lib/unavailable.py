"""A database that is momentarily out of reach answers 503 with Retry-After, never 500.

PostgreSQL refusing connections, a pool with no connection free within its timeout, a failover
in progress, SQLite's writers queued past their wait: the request did nothing, and the same
request a moment later will likely succeed. Clients and load balancers know what 503 with
Retry-After means; a 500 says bankdesk is broken.
"""

from __future__ import annotations

import json
import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.views import defaults

logger = logging.getLogger("bankdesk.unavailable")

RETRY_AFTER_SECONDS = 2
UNAVAILABLE = (OperationalError, InterfaceError)


def unavailable_response(request: HttpRequest, exc: BaseException) -> HttpResponse:
    """The answer to a request the database could not take just now."""
    logger.warning(
        "database unavailable for %s %s: %s: %s",
        request.method,
        request.path,
        type(exc).__name__,
        str(exc)[:300],
    )
    body = {
        "code": "unavailable",
        "message": "bankdesk is briefly unable to reach its database; please retry",
        "field": None,
    }
    response = HttpResponse(json.dumps(body), status=503, content_type="application/json")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """Django's last resort for an exception nothing else handled (a view's or a middleware's):
    503 when it is the database out of reach, else the plain 500."""
    exc = sys.exc_info()[1]
    if isinstance(exc, UNAVAILABLE):
        return unavailable_response(request, exc)
    return defaults.server_error(request)
