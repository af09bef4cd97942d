"""Cases and everything said on them. Every change is also an appended CaseEvent."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bankdesk.customers.choices import Language, Tier
from bankdesk.customers.models import Customer
from bankdesk.lib.channels import Channel
from bankdesk.security.files import EncryptedFileStorage
from bankdesk.staff.models import Branch, Skill, Team
from bankdesk.tickets.choices import (
    Activity,
    CaseStatus,
    DeliveryStatus,
    Direction,
    EventKind,
    Priority,
    RoutingStrategy,
)


class Category(models.Model):
    """One node of the bank's editable case taxonomy (e.g. Cards › Lost or stolen card)."""

    code = models.SlugField(max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=120)
    name_en = models.CharField(_("English name"), max_length=120, blank=True)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    is_complaint = models.BooleanField(
        default=False, help_text=_("Cases in this category follow the complaint process.")
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class Tag(models.Model):
    name = models.CharField(max_length=50, unique=True)

    def __str__(self) -> str:
        return self.name


class CaseNumberSequence(models.Model):
    """A monotonic counter per year: case numbers are never reused, even across merges."""

    year = models.PositiveIntegerField(unique=True)
    last_value = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last_value}"


class Case(models.Model):
    """One customer matter, across all its messages and channels."""

    number = models.CharField(_("case number"), max_length=20, unique=True)
    subject = models.CharField(_("subject"), max_length=200)
    status = models.CharField(max_length=20, choices=CaseStatus.choices, default=CaseStatus.NEW)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    channel = models.CharField(max_length=20, choices=Channel.choices)
    language = models.CharField(max_length=10, choices=Language.choices, default=Language.ZH_HANS)
    is_complaint = models.BooleanField(default=False)
    # No single-column indexes on these: the composite indexes below lead with each of them.
    category = models.ForeignKey(
        Category,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        db_index=False,
    )
    customer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        db_index=False,
    )
    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, null=True, blank=True, related_name="cases", db_index=False
    )
    # The branch the customer raised the case at, if any: its calendar governs the case's clocks.
    branch = models.ForeignKey(
        Branch, on_delete=models.PROTECT, null=True, blank=True, related_name="cases"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_cases",
        db_index=False,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged_cases"
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="cases")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    first_response_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # The earliest due time of the case's running SLA clocks, kept by sla.clocks whenever the
    # clocks change (None: no clock running), so a queue sorts by deadline on one index.
    sla_due_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="case_created_desc"),
            models.Index(fields=["status", "-created_at", "-id"], name="case_status_created"),
            models.Index(fields=["team", "status", "-created_at"], name="case_team_status"),
            # Newest-first walks of one branch of a user's scope (tickets.access).
            models.Index(fields=["team", "-created_at", "-id"], name="case_team_created"),
            models.Index(fields=["created_by", "-created_at", "-id"], name="case_creator_created"),
            models.Index(
                fields=["is_complaint", "-created_at", "-id"], name="case_complaint_created"
            ),
            models.Index(fields=["assignee", "status", "-created_at"], name="case_assignee_status"),
            models.Index(fields=["customer", "-created_at"], name="case_customer_created"),
            models.Index(fields=["category", "-created_at"], name="case_category_created"),
            models.Index(fields=["channel", "-created_at"], name="case_channel_created"),
            models.Index(fields=["priority", "-created_at"], name="case_priority_created"),
            # Only cases with a running deadline: as many as the work in hand, not the history.
            models.Index(
                fields=["sla_due_at", "id"],
                name="case_sla_due",
                condition=models.Q(sla_due_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.subject}"


class RoutingRule(models.Model):
    """Which queue a case belongs in, and how a person in it is chosen. The first active rule,
    lowest position first, whose conditions all hold decides; an empty condition matches any case.
    """

    name = models.CharField(_("name"), max_length=120)
    position = models.PositiveIntegerField(default=100, help_text=_("Lower comes first."))
    is_active = models.BooleanField(default=True)
    # Conditions.
    category = models.ForeignKey(
        Category,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="routing_rules",
        help_text=_("Cases in this category or any of its sub-categories."),
    )
    channel = models.CharField(max_length=20, choices=Channel.choices, blank=True)
    language = models.CharField(max_length=10, choices=Language.choices, blank=True)
    customer_tier = models.CharField(max_length=20, choices=Tier.choices, blank=True)
    is_complaint = models.BooleanField(
        null=True, blank=True, help_text=_("Only complaints, only non-complaints, or both.")
    )
    # Actions.
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="routing_rules")
    strategy = models.CharField(
        max_length=20, choices=RoutingStrategy.choices, default=RoutingStrategy.LEAST_LOADED
    )
    required_skills = models.ManyToManyField(
        Skill,
        blank=True,
        related_name="routing_rules",
        help_text=_("The assignee must hold every one of these."),
    )
    match_language_skill = models.BooleanField(
        default=False,
        help_text=_("The assignee must also hold the language skill of the case's language."),
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["is_active", "position"], name="routing_rule_order")]

    def __str__(self) -> str:
        return self.name


class Conversation(models.Model):
    """One thread on one channel (an e-mail thread, a chat session, a call) within a case."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="conversations")
    channel = models.CharField(max_length=20, choices=Channel.choices)
    # The channel's thread: a web chat session, an e-mail thread root; where the thread is the
    # customer's own identifier (a phone, an openid), its blind index (`tickets.threads`).
    external_thread_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["channel", "external_thread_id"], name="conv_thread")]

    def __str__(self) -> str:
        return f"{self.channel} conversation on case {self.case_id}"


class Message(models.Model):
    """What the customer said to the bank, or the bank to the customer, on a channel."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    # Denormalised so a case's timeline is one indexed query (message_case_time).
    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="messages", db_index=False
    )
    direction = models.CharField(max_length=10, choices=Direction.choices)
    channel = models.CharField(max_length=20, choices=Channel.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    text = models.TextField()
    html = models.TextField(blank=True, help_text=_("Sanitised HTML, when the channel sent HTML."))
    # The channel's own id for the message; one message per (channel, external id).
    # NULL, not "", for "no id": the unique constraint must ignore messages without one.
    external_id = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    # Kept by the channel's outbox as it works, so whoever reads the case sees a reply that
    # never reached the customer.
    delivery_status = models.CharField(max_length=10, choices=DeliveryStatus.choices, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "external_id"],
                condition=models.Q(external_id__isnull=False),
                name="message_external_id_unique_per_channel",
            )
        ]
        indexes = [models.Index(fields=["case", "created_at"], name="message_case_time")]

    def __str__(self) -> str:
        return f"{self.direction} {self.channel} message on case {self.case_id}"


class Attachment(models.Model):
    """A file that came with a message; served only as a download, never rendered inline.

    Kept encrypted under the data keys (`security.files`): a customer's ID card photo or a
    call recording is personal data like any field."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="attachments/%Y/%m/", storage=EncryptedFileStorage())
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=120)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.filename


class InternalNote(models.Model):
    """Staff-only remarks on a case; never sent to the customer."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"note {self.pk} on case {self.case_id}"


class AppendOnlyError(RuntimeError):
    pass


class CaseEvent(models.Model):
    """An append-only record of one change to a case: the source of every later indicator."""

    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="events", db_index=False
    )  # indexed by event_case
    kind = models.CharField(max_length=30, choices=EventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["case", "id"], name="event_case"),
            models.Index(fields=["kind", "created_at"], name="event_kind_time"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} on case {self.case_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise AppendOnlyError("case events are never changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("case events are never deleted")


class CaseActivity(models.Model):
    """Who has a case open right now, and whether they are writing to the customer: the
    console reports it every few seconds, so two people do not answer one customer twice.
    A report older than `tickets.collision.ACTIVITY_WINDOW` no longer counts."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="activities")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    activity = models.CharField(max_length=10, choices=Activity.choices)
    seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "user"], name="case_activity_one_per_person"),
        ]
        indexes = [
            models.Index(fields=["case", "seen_at"], name="case_activity_recent"),
            models.Index(fields=["seen_at"], name="case_activity_age"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.activity} case {self.case_id}"


class Macro(models.Model):
    """A canned reply in 简体, 繁體 and English, with placeholders filled for the case, and the
    changes to the case that usually go with it. Shared macros (no owner) are kept by
    supervisors; anyone may keep personal ones."""

    name = models.CharField(_("name"), max_length=80)
    text_zh_hans = models.TextField(_("text (Simplified Chinese)"))
    text_zh_hant = models.TextField(_("text (Traditional Chinese)"), blank=True)
    text_en = models.TextField(_("text (English)"), blank=True)
    set_status = models.CharField(
        _("then set status to"), max_length=20, choices=CaseStatus.choices, blank=True
    )
    set_priority = models.CharField(
        _("then set priority to"), max_length=10, choices=Priority.choices, blank=True
    )
    add_tag = models.CharField(_("then add tag"), max_length=50, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="macros",
        help_text=_("Empty: shared with everyone."),
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
