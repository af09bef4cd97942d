"""What analytics keeps: one fact row per case, replayed from its events; day rollups of every
indicator's counts, by each slice; the refresh's place in the event log; and the plan's targets.

Facts and rollups are derived data: `rollups.rollups_rebuild` makes them again from the case
events and the complaint, follow-up, survey and assistant records, and must then find them equal
to what the background refresh kept."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bankdesk.lib.channels import Channel


class CaseFact(models.Model):
    """A case as the indicators see it, read from its event log (never from the case's own
    mutable fields): when it came, was first answered and resolved, by whom, and how."""

    case = models.OneToOneField(
        "tickets.Case", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    created_at = models.DateTimeField()
    channel = models.CharField(max_length=20, choices=Channel.choices)
    # The slices: where the case stood last (the team and agent who resolved it, if resolved).
    team_id = models.IntegerField(null=True)
    agent_id = models.IntegerField(null=True)
    category_id = models.IntegerField(null=True)
    branch_id = models.IntegerField(null=True)
    tier = models.CharField(max_length=20, blank=True)
    is_complaint = models.BooleanField(default=False)
    # Merged into another case: the contact is counted there, not here.
    merged = models.BooleanField(default=False)
    first_response_at = models.DateTimeField(null=True)
    first_response_minutes = models.IntegerField(null=True)
    first_response_business_minutes = models.IntegerField(null=True)
    first_resolved_at = models.DateTimeField(null=True)
    # The resolution that stands: null while the case is open again (or never resolved).
    resolved_at = models.DateTimeField(null=True)
    resolution_minutes = models.IntegerField(null=True)
    resolution_business_minutes = models.IntegerField(null=True)
    reopened = models.PositiveIntegerField(default=0)
    # Resolved at the first contact: one message from the customer, never reopened.
    first_contact = models.BooleanField(default=False)
    last_event_id = models.BigIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["created_at"], name="fact_created"),
            models.Index(fields=["resolved_at"], name="fact_resolved"),
            models.Index(fields=["first_response_at"], name="fact_first_response"),
            # The backlog: cases not resolved now, read at a period's end.
            models.Index(
                fields=["created_at"],
                condition=models.Q(resolved_at=None, merged=False),
                name="fact_open",
            ),
        ]

    def __str__(self) -> str:
        return f"fact of case {self.case_id}"


class Rollup(models.Model):
    """One day's counts of every indicator for one slice: the whole centre (dimension "all"),
    or one channel, team, agent, category, branch or customer tier. `figures` holds counts by
    measure name; `histograms` the times, in whole minutes ({"h:measure": {minutes: count}}),
    from which medians and p90s come exactly. They are apart because the histograms are most
    of the bytes and most readings (trends, baselines, ratios) need only the counts."""

    day = models.DateField()
    dimension = models.CharField(max_length=12)
    key = models.CharField(max_length=40)
    figures = models.JSONField(default=dict)
    histograms = models.JSONField(default=dict)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "dimension", "key"], name="rollup_slice_day")
        ]
        indexes = [models.Index(fields=["dimension", "day"], name="rollup_dimension_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.dimension}={self.key}"


class RollupState(models.Model):
    """Where the refresh stands: the last case event folded in, and the last time assistant
    dialogues were looked at (they are not case events)."""

    last_event_id = models.BigIntegerField(default=0)
    dialogues_seen_at = models.DateTimeField(null=True)
    refreshed_at = models.DateTimeField(null=True)
    rebuilt_at = models.DateTimeField(null=True)

    def __str__(self) -> str:
        return f"rollups at event {self.last_event_id}"


class Direction(models.TextChoices):
    HIGHER = "higher", _("Higher is better")
    LOWER = "lower", _("Lower is better")


class Target(models.Model):
    """A target of the plan, as data: the indicator, the value to reach and which way is
    better. CSAT's change is measured against a baseline quarter (empty: the same quarter a
    year before)."""

    code = models.CharField(max_length=60, unique=True)
    value = models.DecimalField(_("target"), max_digits=10, decimal_places=2)
    direction = models.CharField(max_length=10, choices=Direction.choices)
    baseline_quarter = models.CharField(_("baseline quarter"), max_length=6, blank=True)
    in_plan = models.BooleanField(
        _("one of the plan's targets"),
        default=True,
        help_text=_("Shown first on the dashboard and in the quarterly evaluation."),
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.direction} {self.value}"
