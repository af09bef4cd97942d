"""The channels a customer can reach the bank on: one list, shared by every app."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone / IVR")
    WEB_CHAT = "web_chat", _("Web chat")
    APP = "app", _("Mobile app")
    WECHAT = "wechat", _("WeChat")
    ALIPAY = "alipay", _("Alipay")
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")
    BRANCH = "branch", _("Branch")
    TERMINAL = "terminal", _("Self-service terminal")
    SOCIAL = "social", _("Social media")
    API = "api", _("API")


# The longest reply a channel carries: a longer one is refused with this reason, never cut.
# WeChat counts the bytes of the UTF-8 text (a Chinese character is three); SMS counts
# characters, up to the long message providers join from parts.
REPLY_LIMIT_CHARACTERS: dict[str, int] = {Channel.SMS: 500}
REPLY_LIMIT_BYTES: dict[str, int] = {Channel.WECHAT: 2048}


def reply_excess(channel: str, text: str) -> tuple[int, int, str] | None:
    """(limit, size, unit) when `text` is too long for `channel`, else None."""
    if channel in REPLY_LIMIT_CHARACTERS and len(text) > REPLY_LIMIT_CHARACTERS[channel]:
        return REPLY_LIMIT_CHARACTERS[channel], len(text), "characters"
    size = len(text.encode("utf-8"))
    if channel in REPLY_LIMIT_BYTES and size > REPLY_LIMIT_BYTES[channel]:
        return REPLY_LIMIT_BYTES[channel], size, "bytes"
    return None
