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
    # The provider's id once sent. An id the bank chooses itself (an e-mail's Message-ID) is
    # written before the first attempt, so every resend carries the same one.
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


class WeChatNonce(models.Model):
    """A signed call WeChat made to an official account, remembered while its signature would
    still verify. The plaintext-mode signature covers the token, timestamp and nonce but not
    the message, so the same signature must not be taken again with another message.

    Kept by the signed timestamp, not the time of arrival: a call is valid until its timestamp
    leaves the replay window, and `wechat_nonces_prune` deletes it after that.
    """

    endpoint = models.ForeignKey(ChannelEndpoint, on_delete=models.CASCADE, related_name="+")
    timestamp = models.BigIntegerField(help_text=_("The timestamp WeChat signed, in seconds."))
    nonce = models.CharField(max_length=64)
    # What the call carried (the XML, or the URL check's echostr): WeChat's own resend of the
    # same call is answered again; anything else under the same signature is refused.
    content_sha256 = models.CharField(max_length=64)
    seen_at = models.DateTimeField(default=timezone.now)

    PFI_CLASSES: ClassVar[dict[str, PFIClass]] = {
        "id": PFIClass.C1,
        "endpoint": PFIClass.C1,
        "timestamp": PFIClass.C1,
        "nonce": PFIClass.C1,
        "content_sha256": PFIClass.C1,
        "seen_at": PFIClass.C1,
    }

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "timestamp", "nonce"], name="wechat_nonce_once"
            )
        ]
        indexes = [models.Index(fields=["timestamp"], name="wechat_nonce_age")]

    def __str__(self) -> str:
        return f"WeChat call {self.timestamp}/{self.nonce} on endpoint {self.endpoint_id}"
