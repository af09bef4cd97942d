from django.db import models
from django.utils.translation import gettext_lazy as _


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENDING = "sending", _("Being sent")
    SENT = "sent", _("Sent")
    DEAD = "dead", _("Given up")


class IntakeOutcome(models.TextChoices):
    NEW_CASE = "new_case", _("Opened a new case")
    ADDED = "added", _("Added to an existing case")
    REOPENED = "reopened", _("Reopened a resolved case")
    DUPLICATE = "duplicate", _("Already received")
    IGNORED = "ignored", _("Ignored (automatic message)")
