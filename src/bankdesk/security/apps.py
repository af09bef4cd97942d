from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SecurityConfig(AppConfig):
    """Field encryption and blind indexes, masking, the audit chain, backup and restore."""

    name = "bankdesk.security"
    verbose_name = _("Security")
