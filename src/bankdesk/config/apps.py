from django.apps import AppConfig


class ConfigConfig(AppConfig):
    """Holds the project-wide management commands (up, worker, demo)."""

    name = "bankdesk.config"
    label = "bankdesk_config"
    verbose_name = "bankdesk"
