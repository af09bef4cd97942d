from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntakeConfig(AppConfig):
    name = "bankdesk.intake"
    verbose_name = _("Channels")
