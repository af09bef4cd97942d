from django.db import models
from django.utils.translation import gettext_lazy as _


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class DayKind(models.TextChoices):
    HOLIDAY = "holiday", _("Holiday")
    EXTRA_WORKING_DAY = "extra_working_day", _("Extra working day")


class Metric(models.TextChoices):
    FIRST_RESPONSE = "first_response", _("First response")
    NEXT_RESPONSE = "next_response", _("Next response")
    RESOLUTION = "resolution", _("Resolution")
    # A complaint's decision given to the customer (or the case resolved, whichever is first):
    # what statutory complaint deadlines measure.
    DECISION = "decision", _("Decision")


class TimeBasis(models.TextChoices):
    """How a target's time counts. The day bases are the regulators' ("within 15 days"): the day
    of receipt is not counted and the deadline is the end of the last day, in the calendar's
    time zone."""

    BUSINESS = "business", _("Business minutes")
    CALENDAR = "calendar", _("Calendar minutes")
    DAYS = "days", _("Calendar days")
    # The mainland rule (Civil Code art. 203): a period whose last day is a rest day or a
    # public holiday ends with the first working day after it.
    DAYS_WORKING_END = "days_working_end", _("Calendar days, ending on a working day")
    WORKING_DAYS = "working_days", _("Working days")


DAY_BASES = frozenset({TimeBasis.DAYS, TimeBasis.DAYS_WORKING_END, TimeBasis.WORKING_DAYS})


class ClockStatus(models.TextChoices):
    """What a clock is doing. Breached is not a status but a fact: due time passed unmet."""

    RUNNING = "running", _("Running")
    PAUSED = "paused", _("Paused")
    MET = "met", _("Met")
    CANCELLED = "cancelled", _("Cancelled")


class ClockState(models.TextChoices):
    """A clock as staff see it."""

    RUNNING = "running", _("Running")
    PAUSED = "paused", _("Paused")
    MET = "met", _("Met")
    BREACHED = "breached", _("Breached")
    CANCELLED = "cancelled", _("Cancelled")


class DueState(models.TextChoices):
    """Where a case's next SLA deadline stands, as a queue row colours it."""

    ON_TRACK = "on_track", _("On track")
    AT_RISK = "at_risk", _("At risk")
    BREACHED = "breached", _("Breached")
    PAUSED = "paused", _("Paused")


class Threshold(models.TextChoices):
    WARNING = "warning", _("Warning")
    BREACH = "breach", _("Breach")


class EscalationAction(models.TextChoices):
    NOTIFY_SUPERVISOR = "notify_supervisor", _("Notify a supervisor")
    RAISE_PRIORITY = "raise_priority", _("Raise the priority")
    REASSIGN_TEAM = "reassign_team", _("Reassign to a team")
