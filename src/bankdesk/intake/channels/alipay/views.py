"""Alipay's notifications to the bank's life account."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from bankdesk.intake.channels.alipay.endpoint import alipay_endpoint_get
from bankdesk.intake.channels.alipay.notification import notification_read, notification_receive
from bankdesk.lib.errors import BankdeskError


@csrf_exempt  # Alipay cannot hold a CSRF token; every notification is RSA2-signed instead
@require_POST
def alipay_notify(request: HttpRequest, code: str) -> HttpResponse:
    """Unsigned notifications get 403 and leave no trace; taken ones get Alipay's "success"."""
    try:
        endpoint = alipay_endpoint_get(code)
        notification_receive(notification_read(request, endpoint), endpoint)
    except BankdeskError as exc:
        return HttpResponse(
            json.dumps(exc.as_body(), ensure_ascii=False),
            status=exc.status,
            content_type="application/json",
        )
    return HttpResponse("success", content_type="text/plain")
