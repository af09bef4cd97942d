"""Personalised service: segments and who is in them (and why), the service plan each segment
gets, next-best-action suggestions with their outcomes, and customer events and courses with
their sessions, invitations and registrations."""

from __future__ import annotations

import secrets
from typing import ClassVar

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bankdesk.customers.choices import ConsentPurpose
from bankdesk.customers.models import Customer
from bankdesk.lib.channels import Channel
from bankdesk.lib.languages import named_in
from bankdesk.personalization.choices import (
    EventKind,
    InvitationSkip,
    RegistrationStatus,
    SegmentKind,
    SuggestionStatus,
)
from bankdesk.security.classification import PFIClass
from bankdesk.security.encrypted_model import EncryptedModel
from bankdesk.security.fields import EncryptedTextField
from bankdesk.staff.models import Team, User
from bankdesk.tickets.choices import Priority
from bankdesk.tickets.models import Case


def _nonce() -> str:
    return secrets.token_urlsafe(16)


class Segment(models.Model):
    """A group of customers served alike: by a rule (every condition given holds) or by a
    behaviour cluster the background task computes from holdings and interactions."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    name_en = models.CharField(_("English name"), max_length=120, blank=True)
    kind = models.CharField(max_length=10, choices=SegmentKind.choices, default=SegmentKind.RULE)
    # A rule segment's conditions (personalization/segments.py says which there are).
    rule = models.JSONField(default=dict, blank=True)
    # A cluster's centre, feature by feature, as the task last computed it.
    centre = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["kind", "code"]

    def __str__(self) -> str:
        return self.name

    def shown_name(self) -> str:
        """The name in the reader's language."""
        return named_in(self.name, self.name_en)


class Membership(models.Model):
    """The customer is in the segment, for these reasons (the rule's conditions as they held,
    or the features that brought them nearest the cluster's centre)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="memberships")
    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="memberships")
    reasons = models.JSONField(default=list)
    since = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "segment"], name="membership_once"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} in {self.segment_id}"


class ServicePlan(models.Model):
    """How the customers of one segment are served: where their cases go, how urgently, and
    what the agent is told. A customer in several segments gets the plan first in order."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    name_en = models.CharField(_("English name"), max_length=120, blank=True)
    segment = models.ForeignKey(Segment, on_delete=models.PROTECT, related_name="plans")
    position = models.PositiveIntegerField(default=100, help_text=_("Lower comes first."))
    team = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="service_plans",
        help_text=_("Their cases join this team's queue."),
    )
    to_relationship_manager = models.BooleanField(
        default=False,
        help_text=_("Their cases go to their relationship manager first, when they have room."),
    )
    priority = models.CharField(
        max_length=10,
        choices=Priority.choices,
        blank=True,
        help_text=_("Their cases are at least this urgent."),
    )
    guidance = models.TextField(_("guidance for the agent"), blank=True)
    guidance_en = models.TextField(_("guidance in English"), blank=True)
    is_active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class PlanAssignment(models.Model):
    """The customer was under the plan from `started_at` until `ended_at` (still, when empty)."""

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="plan_assignments"
    )
    plan = models.ForeignKey(ServicePlan, on_delete=models.PROTECT, related_name="assignments")
    reasons = models.JSONField(default=list)
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=models.Q(ended_at__isnull=True),
                name="plan_assignment_one_current",
            ),
        ]
        indexes = [models.Index(fields=["started_at", "ended_at"])]

    def __str__(self) -> str:
        return f"{self.customer_id} under {self.plan_id}"


class Suggestion(models.Model):
    """A next-best-action for one customer, with why, and what became of it."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="suggestions")
    action = models.CharField(max_length=40)
    purpose = models.CharField(max_length=20, choices=ConsentPurpose.choices)
    reasons = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=SuggestionStatus.choices, default=SuggestionStatus.OPEN
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The case the agent was working when they decided (none: from the customer page).
    case = models.ForeignKey(
        Case, on_delete=models.SET_NULL, null=True, blank=True, related_name="suggestions"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "action"],
                condition=models.Q(status="open"),
                name="suggestion_one_open_per_action",
            ),
        ]
        indexes = [models.Index(fields=["status", "decided_at"])]

    def __str__(self) -> str:
        return f"{self.action} for {self.customer_id}"


class CustomerEvent(models.Model):
    """An appreciation event or an education course, held in one or more sessions."""

    kind = models.CharField(max_length=20, choices=EventKind.choices)
    title = models.CharField(_("title"), max_length=200)
    title_en = models.CharField(_("English title"), max_length=200, blank=True)
    description = models.TextField(_("description"), blank=True)
    # Who is invited: the customers of these segments.
    segments = models.ManyToManyField(Segment, blank=True, related_name="events")
    created_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title


class EventSession(models.Model):
    event = models.ForeignKey(CustomerEvent, on_delete=models.CASCADE, related_name="sessions")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    place = models.CharField(_("place"), max_length=200)
    capacity = models.PositiveIntegerField(_("seats"))
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="session_ends_after"
            ),
            models.CheckConstraint(condition=models.Q(capacity__gt=0), name="session_has_seats"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} at {self.starts_at:%Y-%m-%d %H:%M}"


class Invitation(models.Model):
    """One customer asked to one session, by one channel, through a signed link."""

    session = models.ForeignKey(EventSession, on_delete=models.CASCADE, related_name="invitations")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="invitations")
    nonce = models.CharField(max_length=32, default=_nonce)
    channel = models.CharField(max_length=20, choices=Channel.choices, blank=True)
    skipped = models.CharField(max_length=20, choices=InvitationSkip.choices, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["session", "customer"], name="invitation_once"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} to {self.session_id}"


class Registration(EncryptedModel):
    """A customer's seat, or their place on the waitlist, at one session."""

    session = models.ForeignKey(
        EventSession, on_delete=models.CASCADE, related_name="registrations"
    )
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="registrations")
    status = models.CharField(max_length=12, choices=RegistrationStatus.choices)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    reminded_at = models.DateTimeField(null=True, blank=True)
    feedback_score = models.PositiveSmallIntegerField(null=True, blank=True)
    # The customer's own words: encrypted.
    feedback_text = EncryptedTextField(pfi_class=PFIClass.C2, blank=True, default="")

    PFI_CLASSES: ClassVar[dict[str, PFIClass]] = {
        "id": PFIClass.C1,
        "session": PFIClass.C1,
        "customer": PFIClass.C1,
        "status": PFIClass.C1,
        "created_at": PFIClass.C1,
        "updated_at": PFIClass.C1,
        "reminded_at": PFIClass.C1,
        "feedback_score": PFIClass.C1,
        "feedback_text": PFIClass.C2,
    }

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["session", "customer"],
                condition=models.Q(status__in=["registered", "waitlisted", "attended", "no_show"]),
                name="registration_once_per_session",
            ),
            models.CheckConstraint(
                condition=models.Q(feedback_score__isnull=True)
                | models.Q(feedback_score__gte=1, feedback_score__lte=5),
                name="registration_feedback_scale",
            ),
        ]
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.customer_id} at {self.session_id}: {self.status}"
