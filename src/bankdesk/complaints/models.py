"""The complaint record beside its case, and the taxonomy complaints are classified by."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bankdesk.complaints.choices import ClassKind, ComplaintStatus, CustomerResponse
from bankdesk.lib.channels import Channel
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
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-received_at", "-id"]
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
