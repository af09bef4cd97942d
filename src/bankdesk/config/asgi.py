"""ASGI entry point, served by uvicorn (`bankdesk up`): pages over HTTP, live chat and live
staff screens over WebSockets."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bankdesk.config.settings")

# Django first: the WebSocket routes import models.
django_application = get_asgi_application()

# Refuse to serve with missing or wrong data keys: never a plaintext fallback.
from bankdesk.security.crypto import keyring  # noqa: E402

keyring()

from channels.routing import ProtocolTypeRouter  # type: ignore[import-untyped]  # noqa: E402

from bankdesk.intake.channels.webchat.consumers import FRAME_MAX  # noqa: E402
from bankdesk.intake.channels.webchat.routing import websocket_application  # noqa: E402

# The largest WebSocket message bankdesk reads: a chat frame of FRAME_MAX characters as UTF-8.
# The server closes a larger one (1009) before it is read; uvicorn's own default is 16 MiB.
WEBSOCKET_MESSAGE_MAX_BYTES = FRAME_MAX * 4

application = ProtocolTypeRouter({"http": django_application, "websocket": websocket_application})
