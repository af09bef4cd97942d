"""Follow-ups (回访) of resolved cases and the satisfaction surveys sent after them.

A case has at most one follow-up and one survey, however often it is resolved: both are keyed
on the case. Each keeps who and what the case was about when it was first resolved (agent,
team, channel, category), so the indicators count a response where the work was done, even if
the case moves on later.
"""

from __future__ import annotations

import secrets
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bankdesk.customers.choices import Tier
from bankdesk.customers.models import Customer
from bankdesk.feedback.choices import (
    AttemptOutcome,
    FollowUpStatus,
    OptOutSource,
    ResponseSource,
    SkipReason,
    SurveyStatus,
    Verdict,
)
from bankdesk.intake.models import OutboxMessage
from bankdesk.lib.channels import Channel
from bankdesk.lib.languages import Language
from bankdesk.security.classification import PFIClass
from bankdesk.security.encrypted_model import EncryptedModel
from bankdesk.security.fields import EncryptedTextField
from bankdesk.staff.models import Team
from bankdesk.tickets.models import Case, Category


class FollowUpRule(models.Model):
    """Which resolved cases get a follow-up call, and how soon. The first active rule, lowest
    position first, whose conditions all hold decides; an empty condition matches any case.
    Complaints are always followed up, whatever the rules say."""

    name = models.CharField(_("name"), max_length=120)
    position = models.PositiveIntegerField(_("position"), default=100)
    is_active = models.BooleanField(default=True)
    category = models.ForeignKey(
        Category,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Cases in this category or any of its sub-categories."),
    )
    channel = models.CharField(max_length=20, choices=Channel.choices, blank=True)
    customer_tier = models.CharField(max_length=20, choices=Tier.choices, blank=True)
    is_complaint = models.BooleanField(null=True, blank=True)
    follow_up = models.BooleanField(
        _("follow up"), default=True, help_text=_("Off: matching cases get no follow-up call.")
    )
    due_hours = models.PositiveIntegerField(
        _("due within (business hours)"), default=24, help_text=_("On the case's calendar.")
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class FollowUp(EncryptedModel):
    """The call after a case is resolved: attempts until the customer gives a verdict."""

    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="follow_up")
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    rule = models.ForeignKey(
        FollowUpRule, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        max_length=15, choices=FollowUpStatus.choices, default=FollowUpStatus.OPEN
    )
    # When the case was (first) resolved, and the follow-up due on the case's calendar.
    resolved_at = models.DateTimeField()
    due_at = models.DateTimeField()
    # The retry schedule: the next call is not before this.
    next_attempt_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    # How many times the case came back resolved after an unhappy verdict reopened it.
    round = models.PositiveSmallIntegerField(default=1)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="follow_ups",
    )
    # The case as it stood when resolved, for the indicators.
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    channel = models.CharField(max_length=20, choices=Channel.choices)
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    is_complaint = models.BooleanField(default=False)
    verdict = models.CharField(max_length=15, choices=Verdict.choices, blank=True)
    remarks = EncryptedTextField(pfi_class=PFIClass.C2, blank=True, default="")
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    PFI_CLASSES: ClassVar[dict[str, PFIClass]] = {
        **dict.fromkeys(
            [
                *("id", "case", "customer", "rule", "status", "resolved_at", "due_at"),
                *("next_attempt_at", "attempts", "round", "owner", "agent", "team", "channel"),
                *("category", "is_complaint", "verdict", "completed_at", "completed_by"),
                "created_at",
            ],
            PFIClass.C1,
        ),
        "remarks": PFIClass.C2,
    }

    class Meta:
        indexes = [
            models.Index(
                fields=["next_attempt_at", "id"],
                name="followup_open_due",
                condition=models.Q(status="open"),
            ),
            models.Index(fields=["resolved_at"], name="followup_resolved"),
        ]

    def __str__(self) -> str:
        return f"follow-up of case {self.case_id} ({self.status})"


class FollowUpAttempt(EncryptedModel):
    """One call (or try) and what came of it."""

    follow_up = models.ForeignKey(FollowUp, on_delete=models.CASCADE, related_name="tries")
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    outcome = models.CharField(max_length=15, choices=AttemptOutcome.choices)
    note = EncryptedTextField(pfi_class=PFIClass.C2, blank=True, default="")
    call_back_at = models.DateTimeField(null=True, blank=True)

    PFI_CLASSES: ClassVar[dict[str, PFIClass]] = {
        "id": PFIClass.C1,
        "follow_up": PFIClass.C1,
        "at": PFIClass.C1,
        "by": PFIClass.C1,
        "outcome": PFIClass.C1,
        "note": PFIClass.C2,
        "call_back_at": PFIClass.C1,
    }

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.outcome} at {self.at:%Y-%m-%d %H:%M}"


class SurveyTemplate(models.Model):
    """A survey's questions, in each language. A template is never edited once used: a change
    is a new version, and each answer keeps the version it answered."""

    code = models.SlugField(max_length=60)
    version = models.PositiveIntegerField(default=1)
    name = models.CharField(_("name"), max_length=120)
    is_active = models.BooleanField(default=True)
    # [{"key": "csat", "kind": "csat"|"nps"|"text", "required": bool,
    #   "text": {"zh-hans": …, "zh-hant": …, "en": …}}, …]
    questions = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="survey_template_version")
        ]

    def __str__(self) -> str:
        return f"{self.code} v{self.version}"

    def question_list(self) -> list[dict[str, Any]]:
        return [q for q in self.questions if isinstance(q, dict)]


def _nonce() -> str:
    return secrets.token_urlsafe(12)


class Survey(models.Model):
    """The satisfaction survey of one case: queued on the customer's channel, or asked on the
    follow-up call, or not sent (with the reason)."""

    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="survey")
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    template = models.ForeignKey(SurveyTemplate, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=15, choices=SurveyStatus.choices)
    skip_reason = models.CharField(max_length=20, choices=SkipReason.choices, blank=True)
    language = models.CharField(max_length=10, choices=Language.choices)
    # The channel the invitation goes by (blank: asked on the follow-up call or not sent).
    sent_by = models.CharField(max_length=20, choices=Channel.choices, blank=True)
    # The link's secret part: a link names its survey and this, signed.
    nonce = models.CharField(max_length=32, default=_nonce)
    created_at = models.DateTimeField(default=timezone.now)
    invitation = models.ForeignKey(
        OutboxMessage, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Not before this (quiet hours): the invitation leaves the outbox then.
    send_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    # The case as it stood when resolved, for the indicators.
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    channel = models.CharField(max_length=20, choices=Channel.choices)
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        indexes = [
            models.Index(fields=["customer", "-created_at"], name="survey_customer_recent"),
            models.Index(fields=["send_at"], name="survey_sent"),
            models.Index(
                fields=["send_at", "id"],
                name="survey_awaiting",
                condition=models.Q(status="scheduled", reminded_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"survey of case {self.case_id} ({self.status})"


class SurveyResponse(EncryptedModel):
    """A survey's one answer: scores kept plain for counting, every answer (free text too)
    encrypted as given."""

    survey = models.OneToOneField(Survey, on_delete=models.PROTECT, related_name="response")
    source = models.CharField(max_length=10, choices=ResponseSource.choices)
    answered_at = models.DateTimeField(default=timezone.now)
    csat = models.PositiveSmallIntegerField(null=True, blank=True)
    nps = models.PositiveSmallIntegerField(null=True, blank=True)
    answers = EncryptedTextField(pfi_class=PFIClass.C2, help_text=_("JSON: key → answer."))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    PFI_CLASSES: ClassVar[dict[str, PFIClass]] = {
        "id": PFIClass.C1,
        "survey": PFIClass.C1,
        "source": PFIClass.C1,
        "answered_at": PFIClass.C1,
        "csat": PFIClass.C1,
        "nps": PFIClass.C1,
        "answers": PFIClass.C2,
        "recorded_by": PFIClass.C1,
    }

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(csat__isnull=True) | models.Q(csat__gte=1, csat__lte=5),
                name="survey_csat_range",
            ),
            models.CheckConstraint(
                condition=models.Q(nps__isnull=True) | models.Q(nps__lte=10),
                name="survey_nps_range",
            ),
        ]
        indexes = [models.Index(fields=["answered_at"], name="survey_response_time")]

    def __str__(self) -> str:
        return f"response to survey {self.survey_id}"


class SurveyOptOut(models.Model):
    """A customer who asked for no more surveys; remembered until they say otherwise."""

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    source = models.CharField(max_length=10, choices=OptOutSource.choices)

    def __str__(self) -> str:
        return f"customer {self.customer_id} opted out of surveys"
