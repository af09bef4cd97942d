"""Request ids: a well-formed `X-Request-ID` is kept, else one is generated; logs carry it."""

from __future__ import annotations

import contextvars
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

_ACCEPTABLE = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
HEADER = "X-Request-ID"


def _choose_id(request: HttpRequest) -> str:
    offered = request.headers.get(HEADER, "")
    return offered if _ACCEPTABLE.match(offered) else uuid.uuid4().hex


class RequestIdMiddleware:
    """Sets the request id for the duration of a request and echoes it in the response."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        if iscoroutinefunction(self.get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if iscoroutinefunction(self):
            return self.__acall__(request)
        # Not reset afterwards: Django logs the finished request after the middleware returns,
        # and that line must carry the id too. The next request sets its own.
        request_id_var.set(_choose_id(request))
        response: HttpResponseBase = self.get_response(request)
        response[HEADER] = request_id_var.get()
        return response

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        request_id_var.set(_choose_id(request))
        get_response: Callable[[HttpRequest], Awaitable[HttpResponseBase]] = self.get_response
        response = await get_response(request)
        response[HEADER] = request_id_var.get()
        return response
