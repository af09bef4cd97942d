"""Live staff screens: who may keep one open. New messages are announced by
`tickets.live.live_message_publish`; each screen reads them itself, through the same access
gate as the page it shows."""

from __future__ import annotations

import time
from importlib import import_module
from typing import Any

from django.conf import settings
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.models import Device

from bankdesk.staff.mfa import mfa_is_satisfied

# Set by bankdesk.staff.middleware.IdleTimeoutMiddleware on every console request.
LAST_SEEN_SESSION_KEY = "bankdesk_last_seen"


def live_staff_may_connect(user: Any, session: Any) -> bool:
    """What the console's middleware checks on a page, checked once when a live screen connects:
    signed in, active, not idle past the limit, and the second factor given when owed."""
    if not getattr(user, "is_authenticated", False) or session is None:
        return False
    if not _seen_recently(session):
        return False
    _otp_device_attach(user, session)
    return mfa_is_satisfied(user)


def live_session_is_active(session_key: str | None) -> bool:
    """Whether the console session behind an open screen has been used within the idle limit:
    a screen left open must not keep showing customers' messages after the console would
    have signed its user out."""
    if not session_key:
        return False
    return _seen_recently(import_module(settings.SESSION_ENGINE).SessionStore(session_key))


def _seen_recently(session: Any) -> bool:
    """The session was used within the console's idle limit."""
    last_seen = session.get(LAST_SEEN_SESSION_KEY)
    limit = settings.BANKDESK_IDLE_TIMEOUT_MINUTES * 60
    return isinstance(last_seen, int) and time.time() - last_seen <= limit


def _otp_device_attach(user: Any, session: Any) -> None:
    """django-otp's middleware does this for HTTP requests; WebSockets have no middleware."""
    device = None
    persistent_id = session.get(DEVICE_ID_SESSION_KEY)
    if persistent_id:
        device = Device.from_persistent_id(persistent_id, for_verify=False)
        if device is not None and (device.user_id != user.pk or not device.confirmed):
            device = None
    user.otp_device = device
    user.is_verified = lambda: user.otp_device is not None
