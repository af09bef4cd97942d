"""Business calendars: when the bank's clocks run. Data, edited by admins, never settings."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bankdesk.sla.choices import (
    ClockStatus,
    DayKind,
    EscalationAction,
    Metric,
    Threshold,
    TimeBasis,
    Weekday,
)
from bankdesk.staff.models import Team
from bankdesk.tickets.choices import Priority
from bankdesk.tickets.models import Case, Category


def validate_time_zone(value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(
            _("%(value)s is not an IANA time zone"), params={"value": value}
        ) from exc


class BusinessCalendar(models.Model):
    """The working time of a team or branch: SLA targets in business minutes run on it."""

    code = models.SlugField(max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=120)
    time_zone = models.CharField(
        max_length=64, default="Asia/Shanghai", validators=[validate_time_zone]
    )
    is_24x7 = models.BooleanField(
        default=False, help_text=_("Every minute is working time; periods and days are ignored.")
    )
    # Holidays are published a year at a time (the State Council's notice each November or
    # December); past this date a deadline rests on the weekly pattern alone, and says so.
    known_until = models.DateField(
        _("holidays known until"),
        null=True,
        blank=True,
        help_text=_(
            "The last date this calendar's holidays and adjusted working days are published "
            "for. Deadlines after it count weekends only and are provisional. Empty: no "
            "horizon (round the clock, or no public holidays)."
        ),
    )

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class WorkingPeriod(models.Model):
    """One stretch of working hours on a weekday; several make a split shift (lunch break)."""

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="periods")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start = models.TimeField()
    end = models.TimeField()

    class Meta:
        ordering = ["calendar", "weekday", "start"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(start__lt=models.F("end")), name="sla_period_starts_before_end"
            ),
            models.CheckConstraint(
                condition=models.Q(weekday__lte=6), name="sla_period_weekday_in_week"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}–{self.end:%H:%M}"

    def clean(self) -> None:
        if self.start is not None and self.end is not None and self.start >= self.end:
            raise ValidationError(_("A period must start before it ends."))
        if self.calendar_id is None or self.start is None or self.end is None:
            return
        overlapping = WorkingPeriod.objects.filter(
            calendar_id=self.calendar_id,
            weekday=self.weekday,
            start__lt=self.end,
            end__gt=self.start,
        ).exclude(pk=self.pk)
        if overlapping.exists():
            raise ValidationError(_("This period overlaps another on the same weekday."))


class CalendarDay(models.Model):
    """A date that breaks the weekly pattern: a public holiday, or a weekend worked (调休)."""

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="days")
    date = models.DateField()
    kind = models.CharField(max_length=20, choices=DayKind.choices)
    name = models.CharField(_("name"), max_length=120, blank=True)

    class Meta:
        ordering = ["calendar", "date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="sla_one_entry_per_day"),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.get_kind_display()} {self.name}".strip()


class SlaPolicy(models.Model):
    """Which cases get which time limits. The first active policy (by position) whose conditions
    all hold applies to a case; its targets become the case's clocks.

    Empty conditions match anything. Lists (priorities, channels, tiers) match any member.
    """

    code = models.SlugField(max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=120)
    position = models.PositiveIntegerField(default=100, help_text=_("Lower comes first."))
    is_active = models.BooleanField(default=True)
    # Empty: the bank's own policy (the first that matches applies). A regulator's code: a
    # statutory policy of that regulator's profile, which applies beside the bank's own — the
    # first active one of each regulator that matches, so a complaint runs the bank's 24-hour
    # target and the regulator's deadline at once.
    regulator = models.CharField(
        max_length=20,
        blank=True,
        help_text=_("Empty for the bank's own policy; a regulator's code for a statutory one."),
    )
    categories = models.ManyToManyField(
        Category,
        blank=True,
        related_name="sla_policies",
        help_text=_("Cases in any of these categories or their sub-categories."),
    )
    priorities = models.JSONField(default=list, blank=True)
    channels = models.JSONField(default=list, blank=True)
    customer_tiers = models.JSONField(default=list, blank=True)
    is_complaint = models.BooleanField(
        null=True, blank=True, help_text=_("Only complaints, only non-complaints, or both.")
    )
    pause_statuses = models.JSONField(
        default=list,
        blank=True,
        help_text=_("Case statuses in which this policy's clocks stop running."),
    )
    calendar = models.ForeignKey(
        BusinessCalendar,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Business time for its targets; empty: the case team's calendar."),
    )

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")

    def __str__(self) -> str:
        return self.name


class SlaTarget(models.Model):
    """One time limit of a policy. A case runs one clock per target (next response: one per
    customer message awaiting a reply), so a policy can hold an internal 24-hour resolution
    target and a 15-day statutory one at once."""

    policy = models.ForeignKey(SlaPolicy, on_delete=models.CASCADE, related_name="targets")
    name = models.CharField(_("name"), max_length=120)
    metric = models.CharField(max_length=20, choices=Metric.choices)
    minutes = models.PositiveIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5_256_000)]  # ten years
    )
    basis = models.CharField(max_length=20, choices=TimeBasis.choices, default=TimeBasis.BUSINESS)
    warning_percent = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(99)],
        help_text=_("Warn when this share of the target is used; empty: no warning."),
    )
    # The longer limits a statutory deadline may be extended to, in order (minutes, like
    # `minutes`): each step needs a supervisor's approval and a notice to the customer.
    extensions = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["policy", "id"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "name"], name="sla_target_name_per_policy"),
            models.CheckConstraint(condition=models.Q(minutes__gte=1), name="sla_target_minutes"),
        ]

    def __str__(self) -> str:
        return f"{self.policy}: {self.name}"


class SlaEscalation(models.Model):
    """What happens when a target's clock reaches its warning or its breach; once per clock."""

    target = models.ForeignKey(SlaTarget, on_delete=models.CASCADE, related_name="escalations")
    threshold = models.CharField(max_length=10, choices=Threshold.choices)
    action = models.CharField(max_length=20, choices=EscalationAction.choices)
    team = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("For reassignment: the team that takes the case over."),
    )
    priority = models.CharField(
        max_length=10,
        choices=Priority.choices,
        blank=True,
        help_text=_("For raising the priority: at least this; empty: one step up."),
    )

    class Meta:
        ordering = ["target", "threshold", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(action=EscalationAction.REASSIGN_TEAM)
                | models.Q(team__isnull=False),
                name="sla_escalation_reassign_names_team",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.target}: {self.get_threshold_display()} → {self.get_action_display()}"


class SlaClock(models.Model):
    """One SLA clock of one case. It keeps a copy of its target's terms, so editing a policy
    changes open cases only through the audited recompute (`bankdesk sla recompute`)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="sla_clocks")
    target = models.ForeignKey(SlaTarget, on_delete=models.PROTECT, related_name="clocks")
    cycle = models.PositiveIntegerField(default=0, help_text=_("Next response: which reply."))
    # The terms, as they stood when the clock started or was last recomputed.
    name = models.CharField(_("name"), max_length=120)
    metric = models.CharField(max_length=20, choices=Metric.choices)
    minutes = models.PositiveIntegerField()
    basis = models.CharField(max_length=20, choices=TimeBasis.choices)
    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    warning_percent = models.PositiveSmallIntegerField(null=True, blank=True)
    # How many of its target's extensions have been approved: `minutes` is then that step's.
    extension = models.PositiveSmallIntegerField(default=0)
    pause_statuses = models.JSONField(default=list, blank=True)
    # Where it stands.
    status = models.CharField(max_length=10, choices=ClockStatus.choices)
    started_at = models.DateTimeField()
    consumed = models.DurationField(
        help_text=_("Working time used up to the last resume, pause, met or cancel.")
    )
    due_at = models.DateTimeField(null=True, blank=True)
    warn_at = models.DateTimeField(null=True, blank=True)
    met_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    # What the sweep has noticed; each threshold's escalations fire once.
    warned_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    is_provisional = models.BooleanField(
        default=False,
        help_text=_(
            "Worked out across dates whose holidays are not yet published (weekends only); "
            "loading the year's official notice works it out again."
        ),
    )
    next_check_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When the sweep next looks at this clock.")
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["case", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "target", "cycle"], name="sla_one_clock_per_target_cycle"
            ),
        ]
        indexes = [
            # The sweep: running clocks with a threshold due, and nothing else.
            models.Index(
                fields=["next_check_at"],
                condition=models.Q(status="running", next_check_at__isnull=False),
                name="sla_clock_next_check",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} on case {self.case_id}"


class SlaClockPause(models.Model):
    """The pause ledger: each stretch a clock stood still, and the case status that stopped it."""

    clock = models.ForeignKey(SlaClock, on_delete=models.CASCADE, related_name="pauses")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=20)

    class Meta:
        ordering = ["clock", "started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["clock", "started_at"], name="sla_one_pause_per_clock_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.status} {self.started_at:%Y-%m-%d %H:%M}"


class SlaFiring(models.Model):
    """One escalation fired for one clock: the unique pair makes it happen exactly once."""

    clock = models.ForeignKey(SlaClock, on_delete=models.CASCADE, related_name="firings")
    escalation = models.ForeignKey(SlaEscalation, on_delete=models.PROTECT, related_name="+")
    fired_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["fired_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["clock", "escalation"], name="sla_escalation_once_per_clock"
            ),
        ]
        indexes = [
            models.Index(
                fields=["fired_at"],
                condition=models.Q(done_at__isnull=True),
                name="sla_firing_todo",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.escalation} on clock {self.clock_id}"


class SlaAlert(models.Model):
    """A message to a supervisor: a clock of a case they oversee is about to breach, or did."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sla_alerts"
    )
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    clock = models.ForeignKey(SlaClock, on_delete=models.CASCADE, related_name="+")
    threshold = models.CharField(max_length=10, choices=Threshold.choices)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "-created_at"], name="sla_alert_inbox")]

    def __str__(self) -> str:
        return f"{self.threshold} on case {self.case_id} for {self.recipient_id}"


class SlaSettingsStamp(models.Model):
    """One row that changes whenever policies, targets, calendars or categories do.

    Every process keeps the SLA settings compiled in memory (`sla.snapshot`) and re-reads them
    only when this stamp differs from the one they were read under: one indexed read per case
    change instead of a dozen. The stamp is a fresh random number, never a counter, so a change
    rolled back can never be mistaken for a later one.
    """

    stamp = models.BigIntegerField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="sla_settings_stamp_single_row")
        ]

    def __str__(self) -> str:
        return f"SLA settings {self.stamp:x}"
