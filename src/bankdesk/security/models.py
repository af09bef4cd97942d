"""Security records: key checks, the audit chain and rate-limit counters."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone


class KeyCheck(models.Model):
    """A known text encrypted with one data key, or indexed with the index key (key id
    "~index"): proves at start that the key is the right one."""

    key_id = models.CharField(max_length=32, unique=True)
    canary = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.key_id


class AuditEntry(models.Model):
    """One entry of the append-only audit log: who did what to which object, when, from where.

    Only field names are kept, never the values of personal data. A writer appends its entry
    sealed with a MAC under the audit key (`content_mac`), taking no lock anyone else waits
    for; the chainer then gives it the next `sequence` and its `link`, a MAC over its content's
    MAC and the link before, so changing, removing or reordering entries breaks the chain. The
    id is the order entries were appended, the sequence the order they were chained.
    """

    sequence = models.PositiveBigIntegerField(null=True, blank=True, unique=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=60)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    fields = models.JSONField(default=list)
    reason = models.CharField(max_length=500, blank=True)
    origin_ip = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Random per entry, so two entries saying the same thing at the same moment differ, and a
    # copy of an entry is refused by the unique MAC.
    nonce = models.CharField(max_length=32, blank=True)
    content_mac = models.CharField(max_length=64, unique=True)
    link = models.CharField(max_length=64, blank=True)
    # The unkeyed hash an entry had in the chain before it was keyed; blank for later entries.
    legacy_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="audit_object"),
            models.Index(fields=["actor", "created_at"], name="audit_actor_time"),
            models.Index(fields=["created_at", "id"], name="audit_time"),
            models.Index(fields=["action", "created_at"], name="audit_action_time"),
            # What the chainer looks for after every commit: only the few entries not yet linked.
            models.Index(
                fields=["id"], condition=models.Q(sequence__isnull=True), name="audit_unchained"
            ),
        ]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        position = f"#{self.sequence}" if self.sequence else f"(id {self.pk}, not yet chained)"
        return f"{position} {self.action} {self.object_type}:{self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise RuntimeError("audit entries are never changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise RuntimeError("audit entries are never deleted")


class RateCounter(models.Model):
    """Requests counted per key (token, address, endpoint) in fixed windows, when no Redis."""

    key = models.CharField(max_length=200)
    window_start = models.BigIntegerField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "window_start"], name="rate_counter_window")
        ]

    def __str__(self) -> str:
        return f"{self.key}@{self.window_start}: {self.count}"


class AuditHead(models.Model):
    """The chain's last link: one row, which only the chainer locks, never a writer.

    `key_fingerprint` names the audit key the chain is sealed with, so a process started with
    another key refuses to write rather than append entries nobody could verify.
    """

    sequence = models.PositiveBigIntegerField(default=0)
    link = models.CharField(max_length=64, blank=True)
    key_fingerprint = models.CharField(max_length=16, blank=True)

    def __str__(self) -> str:
        return f"audit head #{self.sequence}"
