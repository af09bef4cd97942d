"""The complaint record beside its case, and the taxonomy complaints are classified by."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bankdesk.complaints.choices import (
    ClassKind,
    ComplaintStatus,
    CustomerResponse,
    ExampleSource,
    ExtensionStatus,
    HotspotDimension,
    RectificationStatus,
    RootCauseStatus,
)
from bankdesk.lib.channels import Channel
from bankdesk.sla.models import SlaClock
from bankdesk.tickets.models import Case


class ComplaintClass(models.Model):
    """One node of the taxonomy: a product, an issue or a cause, under a broader one of the same
    kind. The bank edits the tree; a node in use is retired, never deleted."""

    kind = models.CharField(max_length=10, choices=ClassKind.choices)
    code = models.SlugField(max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=120)
    name_en = models.CharField(_("English name"), max_length=120, blank=True)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["kind", "code"]
        verbose_name = _("complaint class")
        verbose_name_plural = _("complaint classes")

    def __str__(self) -> str:
        return self.name


class Complaint(models.Model):
    """What the regulated process keeps of a complaint; its case keeps the conversation, the
    clocks and the history (each step is a case event, and audited)."""

    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="complaint")
    status = models.CharField(
        max_length=15, choices=ComplaintStatus.choices, default=ComplaintStatus.RECEIVED
    )
    channel = models.CharField(max_length=20, choices=Channel.choices)
    # What showed it to be a complaint: "created" (opened as one), "category", "assistant",
    # "staff", "regulator".
    opened_on = models.CharField(max_length=20)
    received_at = models.DateTimeField(default=timezone.now)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="complaints_owned",
    )
    product = models.ForeignKey(
        ComplaintClass, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    issue = models.ForeignKey(
        ComplaintClass, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cause = models.ForeignKey(
        ComplaintClass, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    regulator_forwarded = models.BooleanField(default=False)
    regulator_reference = models.CharField(max_length=80, blank=True)
    disputed_amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    demand = models.TextField(blank=True)
    decision = models.TextField(blank=True)
    remedy = models.TextField(blank=True)
    customer_response = models.CharField(
        max_length=10, choices=CustomerResponse.choices, blank=True
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    reopened = models.PositiveSmallIntegerField(default=0)
    # What the classifier suggested at intake, shown to the officer who confirms or corrects.
    suggested_product = models.ForeignKey(
        ComplaintClass, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    suggested_issue = models.ForeignKey(
        ComplaintClass, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    suggestion_score = models.FloatField(null=True, blank=True)
    # Complaints loaded from another register (the CFPB's export): its identifier, the
    # company's response as recorded there and whether it was timely.
    source_reference = models.CharField(max_length=40, blank=True)
    company_response = models.CharField(max_length=120, blank=True)
    timely_response = models.BooleanField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source_reference"],
                condition=~models.Q(source_reference=""),
                name="complaint_source_reference_once",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-received_at"], name="complaint_status_received"),
            models.Index(fields=["owner", "status"], name="complaint_owner_status"),
            models.Index(fields=["-received_at", "-id"], name="complaint_received"),
        ]

    def __str__(self) -> str:
        return f"{self.case.number}"

    @property
    def closed_within_24h(self) -> bool | None:
        """The plan's target: closed within 24 hours of receipt (None while open)."""
        if self.closed_at is None:
            return None
        return (self.closed_at - self.received_at).total_seconds() <= 24 * 3600


class ClassificationExample(models.Model):
    """A narrative with the product and issue it was classified as: what the classifier learns
    from. Officers' confirmations and corrections add to it."""

    text = models.TextField()
    product = models.ForeignKey(ComplaintClass, on_delete=models.PROTECT, related_name="+")
    issue = models.ForeignKey(
        ComplaintClass, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    source = models.CharField(max_length=15, choices=ExampleSource.choices)
    complaint = models.ForeignKey(
        Complaint, on_delete=models.CASCADE, null=True, blank=True, related_name="examples"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.product.code}: {self.text[:40]}"


class ComplaintExtension(models.Model):
    """A statutory deadline extended one step: asked for with a reason, approved (or refused)
    by a supervisor who is not the one asking, and told to the complainant."""

    complaint = models.ForeignKey(Complaint, on_delete=models.CASCADE, related_name="extensions")
    clock = models.ForeignKey(SlaClock, on_delete=models.PROTECT, related_name="+")
    step = models.PositiveSmallIntegerField()
    minutes = models.PositiveIntegerField(help_text=_("The limit the extension gives."))
    reason = models.TextField()
    status = models.CharField(
        max_length=10, choices=ExtensionStatus.choices, default=ExtensionStatus.REQUESTED
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    due_before = models.DateTimeField(null=True, blank=True)
    due_after = models.DateTimeField(null=True, blank=True)
    notice_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["requested_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["clock", "step"],
                condition=~models.Q(status="refused"),
                name="complaint_extension_step_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.clock.name} +{self.step}"


class RootCause(models.Model):
    """Why a hotspot's complaints happen, found by analysis, with the actions that put it right.
    A hotspot is a group of complaints: one value of one dimension (a product, an issue, a
    branch… or a cluster of narratives named by its terms)."""

    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(blank=True)
    dimension = models.CharField(max_length=10, choices=HotspotDimension.choices)
    key = models.CharField(max_length=200, help_text=_("The value complaints are grouped by."))
    label = models.CharField(max_length=200, blank=True)
    status = models.CharField(
        max_length=10, choices=RootCauseStatus.choices, default=RootCauseStatus.OPEN
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    rectified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title


class Rectification(models.Model):
    """One action that removes a root cause: an owner, a due date and where it stands."""

    root_cause = models.ForeignKey(RootCause, on_delete=models.CASCADE, related_name="actions")
    action = models.TextField()
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    due_on = models.DateField()
    status = models.CharField(
        max_length=12, choices=RectificationStatus.choices, default=RectificationStatus.PLANNED
    )
    done_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["due_on", "id"]

    def __str__(self) -> str:
        return self.action[:60]
