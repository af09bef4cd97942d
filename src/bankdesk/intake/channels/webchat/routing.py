"""The WebSocket side of bankdesk: customers' chat widgets and staff's live screens."""

from __future__ import annotations

from channels.auth import AuthMiddlewareStack  # type: ignore[import-untyped]
from channels.routing import URLRouter  # type: ignore[import-untyped]
from channels.security.websocket import (  # type: ignore[import-untyped]
    AllowedHostsOriginValidator,
)
from django.urls import path

from bankdesk.console.consumers import StaffCaseConsumer
from bankdesk.intake.channels.webchat.consumers import CustomerChatConsumer

websocket_urlpatterns = [
    # Customers: embedded on the bank's own site, so the consumer checks Origin against the
    # endpoint's list. No cookies are used, so the console's session is never in play here.
    path("ws/chat/", CustomerChatConsumer.as_asgi()),
    # Staff: the console's session cookie signs them in, so only bankdesk's own pages may
    # open this socket (a foreign page could otherwise ride on the cookie).
    path(
        "ws/staff/",
        AllowedHostsOriginValidator(AuthMiddlewareStack(StaffCaseConsumer.as_asgi())),
    ),
]

websocket_application = URLRouter(websocket_urlpatterns)
