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


def named_in(name: str, name_en: str, language: str | None = None) -> str:
    """A name kept in Chinese and English, in `language` (the page's when not given): English
    where there is an English one, else the Chinese."""
    english = (language or active_language()) == Language.EN
    return name_en if english and name_en else name
