"""The languages bankdesk speaks, for customers, cases and staff alike."""

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class Language(models.TextChoices):
    ZH_HANS = "zh-hans", _("Simplified Chinese")
    ZH_HANT = "zh-hant", _("Traditional Chinese")
    EN = "en", _("English")


def active_language() -> str:
    """The Language of the page being served (the request's active translation)."""
    code = (get_language() or Language.ZH_HANS).lower()
    if code.startswith("en"):
        return Language.EN
    if code in {"zh-hant", "zh-tw", "zh-hk", "zh-mo"}:
        return Language.ZH_HANT
    return Language.ZH_HANS
