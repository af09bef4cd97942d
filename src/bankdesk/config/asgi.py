"""ASGI entry point, served by uvicorn (`bankdesk up`)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bankdesk.config.settings")

application = get_asgi_application()

# Refuse to serve with missing or wrong data keys: never a plaintext fallback.
from bankdesk.security.crypto import keyring  # noqa: E402

keyring()
