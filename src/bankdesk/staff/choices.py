from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    AGENT = "agent", _("Agent")
    SUPERVISOR = "supervisor", _("Supervisor")
    COMPLAINT_OFFICER = "complaint_officer", _("Complaint officer")
    AUDITOR = "auditor", _("Auditor")
    ADMIN = "admin", _("Administrator")


class RoleChangeStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting a decision")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class SkillKind(models.TextChoices):
    LANGUAGE = "language", _("Language")
    PRODUCT = "product", _("Product")
    CERTIFICATION = "certification", _("Certification")


class TokenScope(models.TextChoices):
    READ = "read", _("Read only")
    WRITE = "write", _("Read and write")


class Presence(models.TextChoices):
    AVAILABLE = "available", _("Available")
    AWAY = "away", _("Away")
    OFFLINE = "offline", _("Offline")
