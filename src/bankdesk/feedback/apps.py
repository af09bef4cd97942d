from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    name = "bankdesk.feedback"
    verbose_name = _("Follow-up and surveys")

    def ready(self) -> None:
        from bankdesk.feedback import rules  # noqa: F401 - registers the permissions
        from bankdesk.feedback.receivers import connect

        connect()
