from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "bankdesk.analytics"
    verbose_name = _("Analytics and evaluation")

    def ready(self) -> None:
        from bankdesk.analytics import rules  # noqa: F401 - registers the permissions
