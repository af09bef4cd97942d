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
