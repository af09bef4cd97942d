"""Channel endpoints (the bank's configured WeChat account, mailbox, SMS provider …) and the
outbox every reply leaves through."""

from __future__ import annotations

import json
import uuid
from typing import Any, ClassVar

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bankdesk.intake.choices import OutboxStatus
from bankdesk.lib.channels import Channel
from bankdesk.security.classification import PFIClass
from bankdesk.security.encrypted_model import EncryptedModel
from bankdesk.security.fields import EncryptedTextField
from bankdesk.tickets.models import Case, Message


class ChannelEndpoint(EncryptedModel):
    """One way in and out on a channel: a mailbox, an official account, a provider account.

    Settings are plain data (addresses, app ids, the provider's API base URL); secrets (tokens,
    passwords, keys) are one encrypted JSON object, read only by the adapter that needs them.
    """

    code = models.SlugField(max_length=60, unique=True)
    channel = models.CharField(max_length=20, choices=Channel.choices)
    name = models.CharField(_("name"), max_length=120)
    is_active = models.BooleanField(default=True)
    settings = models.JSONField(default=dict, blank=True)
    secrets = EncryptedTextField(pfi_class=PFIClass.C3, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    PFI_CLASSES: ClassVar[dict[str, PFIClass]] = {
        "id": PFIClass.C1,
        "code": PFIClass.C1,
        "channel": PFIClass.C1,
        "name": PFIClass.C1,
        "is_active": PFIClass.C1,
        "settings": PFIClass.C1,
        "secrets": PFIClass.C3,
        "created_at": PFIClass.C1,
    }

    class Meta:
        ordering = ["channel", "code"]

    def __str__(self) -> str:
        return f"{self.get_channel_display()}: {self.name}"


def _new_key() -> str:
    return uuid.uuid4().hex


class OutboxMessage(EncryptedModel):
    """One outbound message, written in the same transaction as the reply that caused it and
    delivered by a worker. The idempotency key travels with every attempt, so a provider that
    sees a retry of something it already took does not deliver it twice."""

    endpoint = models.ForeignKey(
        ChannelEndpoint, on_delete=models.PROTECT, null=True, blank=True, related_name="outbox"
    )
    channel = models.CharField(max_length=20, choices=Channel.choices)
    case = models.ForeignKey(
        Case, on_delete=models.SET_NULL, null=True, blank=True, related_name="outbox"
    )
    message = models.ForeignKey(
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="outbox"
    )
    # Where it goes (an address, an openid, a phone) and what it says: customer data, encrypted.
    recipient = EncryptedTextField(pfi_class=PFIClass.C2)
    payload = EncryptedTextField(pfi_class=PFIClass.C2, help_text=_("JSON for the adapter."))
    idempotency_key = models.CharField(max_length=64, unique=True, default=_new_key)
    status = models.CharField(
        max_length=10, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    # When a worker may next try. A worker that claims the message moves this forward by its
    # lease, so a worker that dies mid-send leaves it to another once the lease runs out.
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.CharField(max_length=500, blank=True)
    provider_message_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    PFI_CLASSES: ClassVar[dict[str, PFIClass]] = {
        "id": PFIClass.C1,
        "endpoint": PFIClass.C1,
        "channel": PFIClass.C1,
        "case": PFIClass.C1,
        "message": PFIClass.C1,
        "recipient": PFIClass.C2,
        "payload": PFIClass.C2,
        "idempotency_key": PFIClass.C1,
        "status": PFIClass.C1,
        "attempts": PFIClass.C1,
        "next_attempt_at": PFIClass.C1,
        "last_error": PFIClass.C1,
        "provider_message_id": PFIClass.C1,
        "created_at": PFIClass.C1,
        "sent_at": PFIClass.C1,
    }

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status__in=["pending", "sending"]),
                name="outbox_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} outbox {self.pk} ({self.status})"

    def payload_data(self) -> dict[str, Any]:
        data = json.loads(self.payload or "{}")
        return data if isinstance(data, dict) else {}
