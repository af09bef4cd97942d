from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class SegmentKind(models.TextChoices):
    RULE = "rule", _("Rule")
    CLUSTER = "cluster", _("Behaviour cluster")


class SuggestionStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("suggestion", "Open")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    IGNORED = "ignored", _("Ignored")


class EventKind(models.TextChoices):
    APPRECIATION = "appreciation", _("Customer appreciation event")
    COURSE = "course", _("Education course")


class RegistrationStatus(models.TextChoices):
    REGISTERED = "registered", _("Registered")
    WAITLISTED = "waitlisted", _("On the waitlist")
    CANCELLED = "cancelled", pgettext_lazy("registration", "Cancelled")
    ATTENDED = "attended", _("Attended")
    NO_SHOW = "no_show", _("Did not come")


class InvitationSkip(models.TextChoices):
    NO_CONSENT = "no_consent", _("No marketing consent")
    NO_CHANNEL = "no_channel", _("No channel to reach them on")
    ALREADY_BOOKED = "already_booked", _("Already registered")
