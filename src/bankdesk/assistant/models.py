"""The assistant's data: intents and their examples, trained model versions, and dialogues.

Intents and examples live in the database so admins can teach the assistant without a
release; training reads them and stores a versioned artifact in the database, of which each
node keeps a local copy under BANKDESK_HOME. Dialogue turns are stored with every identifier the
customer typed already masked (`lib.redaction`).
"""

from __future__ import annotations

import hashlib
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bankdesk.assistant.choices import DialogueStatus, ExampleSource, ModelStatus, Speaker
from bankdesk.customers.models import Customer
from bankdesk.lib.channels import Channel
from bankdesk.lib.languages import Language
from bankdesk.tickets.models import Case, Category

LABEL_PATTERN = r"^[A-Za-z0-9_?-]{1,80}$"


class Intent(models.Model):
    """Something customers ask for. `code` is the classifier's label."""

    code = models.CharField(max_length=80, unique=True)
    title_en = models.CharField(_("English title"), max_length=120)
    title_zh = models.CharField(_("Chinese title"), max_length=120)
    # Where a hand-off on this intent goes; cases opened for it get this category.
    category = models.ForeignKey(
        Category, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Always handed to a person (a complaint, a fraud report): the assistant never answers it.
    is_risk = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code

    def title(self, language: str) -> str:
        return self.title_en if language == Language.EN else self.title_zh


class IntentExample(models.Model):
    """A labelled customer sentence: an intent's code, or `oos` for what is not a bank matter."""

    label = models.CharField(max_length=80, db_index=True)
    text = models.CharField(max_length=500)
    source = models.CharField(max_length=10, choices=ExampleSource.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["label", "text"], name="intent_example_unique")
        ]

    def __str__(self) -> str:
        return f"{self.label}: {self.text[:40]}"


class ModelVersion(models.Model):
    """One training run; once ready, its files are a `ModelArtifact` every node serves from.

    While it trains, the process training it beats `heartbeat_at`; a run whose heartbeat stops
    (its worker was killed) is marked failed as interrupted rather than left training for ever.
    """

    status = models.CharField(
        max_length=10, choices=ModelStatus.choices, default=ModelStatus.TRAINING
    )
    # Where a node keeps its copy of the files, under BANKDESK_HOME/assistant/models (versions
    # trained before artifacts were stored in the database exist only as such a directory).
    directory = models.CharField(max_length=200, blank=True)
    examples = models.PositiveIntegerField(default=0)
    labels = models.PositiveIntegerField(default=0)
    # Held-out figures: {n, accuracy, macro_f1, oos_recall, p50_ms, p99_ms}.
    metrics = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    seconds = models.FloatField(default=0)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The process training it: "host:pid" for people, and an identity a process on the same
    # machine can check to prove it gone (see assistant.liveness).
    worker = models.CharField(max_length=255, blank=True)
    worker_identity = models.CharField(max_length=255, blank=True)
    # Last sign of life from the training run (every few seconds while it works).
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # The interrupted run this one trains again (at most once: a run that keeps killing its
    # worker, as one running out of memory would, is not started a third time).
    retry_of = models.OneToOneField(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="retried_by"
    )

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"model v{self.pk} ({self.status})"

    @property
    def is_interrupted(self) -> bool:
        """Failed because its worker stopped, not because training itself went wrong."""
        return self.status == ModelStatus.FAILED and self.error.startswith("interrupted:")


class ModelArtifact(models.Model):
    """A ready version's files (model.json, model.npz, metrics.json) as one zip, kept in the
    database so that every node serves the same model and a backup carries it.

    A table of its own, so that listing and choosing versions never reads the blobs; written
    in the transaction that marks the version ready, checked against `sha256` before use.
    """

    version = models.OneToOneField(
        ModelVersion, on_delete=models.CASCADE, primary_key=True, related_name="artifact"
    )
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    content = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"model v{self.pk} files ({self.size} bytes, sha256 {self.sha256[:12]}…)"


class Dialogue(models.Model):
    """One conversation with the assistant, until a person takes it over."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    channel = models.CharField(max_length=20, choices=Channel.choices, default=Channel.APP)
    language = models.CharField(max_length=10, choices=Language.choices)
    customer = models.ForeignKey(
        Customer, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    case = models.ForeignKey(
        Case, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        max_length=12, choices=DialogueStatus.choices, default=DialogueStatus.ASSISTANT
    )
    # The two intents offered in a clarifying question, awaiting the customer's choice.
    pending_choices = models.JSONField(default=list, blank=True)
    # Messages in a row the assistant could not place; the second one goes to a person.
    misses = models.PositiveSmallIntegerField(default=0)
    # The channel's thread the dialogue is on: a web chat session, or a WeChat openid's blind
    # index (`tickets.threads.thread_key`); empty for dialogues through the API, which name the
    # dialogue by its public id.
    thread_id = models.CharField(max_length=128, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["channel", "thread_id"], name="dialogue_thread")]

    def __str__(self) -> str:
        return str(self.public_id)


class Turn(models.Model):
    dialogue = models.ForeignKey(Dialogue, on_delete=models.CASCADE, related_name="turns")
    speaker = models.CharField(max_length=10, choices=Speaker.choices)
    text = models.TextField()
    action = models.CharField(max_length=10, blank=True)
    intent = models.CharField(max_length=80, blank=True)
    confidence = models.FloatField(null=True, blank=True)
    entities = models.JSONField(default=list, blank=True)
    sentiment = models.FloatField(null=True, blank=True)
    anger = models.FloatField(null=True, blank=True)
    # The id the channel gave the message (the browser's, WeChat's MsgId), so that a resend is
    # answered with what was answered before, not read again.
    client_id = models.CharField(max_length=64, blank=True)
    # One customer turn per message of a channel thread: a digest of (channel, thread, the
    # channel's message id), unique, so a retry that arrives while the first copy is still
    # being answered cannot be answered (or handed to a person) a second time.
    channel_key = models.CharField(max_length=64, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.speaker}: {self.text[:40]}"


def channel_message_key(channel: str, thread_id: str, client_id: str) -> str | None:
    """The key that makes a channel thread's message one customer turn (None off a thread)."""
    if not (thread_id and client_id):
        return None
    return hashlib.sha256(f"{channel}\x1f{thread_id}\x1f{client_id}".encode()).hexdigest()
