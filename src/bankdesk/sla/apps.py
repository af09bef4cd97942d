from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SlaConfig(AppConfig):
    name = "bankdesk.sla"
    verbose_name = _("Service levels")

    def ready(self) -> None:
        from bankdesk.sla.snapshot import sla_settings_signals_connect

        sla_settings_signals_connect()
