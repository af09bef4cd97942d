from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PersonalizationConfig(AppConfig):
    name = "bankdesk.personalization"
    verbose_name = _("Personalised service")

    def ready(self) -> None:
        from bankdesk.personalization import rules  # noqa: F401 - registers the permissions
        from bankdesk.personalization.receivers import connect

        connect()
