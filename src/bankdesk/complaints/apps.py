from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ComplaintsConfig(AppConfig):
    name = "bankdesk.complaints"
    verbose_name = _("Complaints")

    def ready(self) -> None:
        from bankdesk.complaints.receivers import connect

        connect()
