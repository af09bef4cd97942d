"""ASGI entry point, served by uvicorn (`bankdesk up`)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bankdesk.config.settings")

application = get_asgi_application()
