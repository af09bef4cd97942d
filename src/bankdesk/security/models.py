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
    """One link of the append-only audit chain: who did what to which object, and when.

    Only field names are kept, never the values of personal data. Each entry's hash covers its
    content and the previous entry's hash, so changing or removing any entry breaks the chain.
    """

    sequence = models.PositiveBigIntegerField(unique=True)
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
    previous_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["sequence"]
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="audit_object"),
            models.Index(fields=["actor", "created_at"], name="audit_actor_time"),
        ]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action} {self.object_type}:{self.object_id}"

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
    """The chain's last link: one row, locked by each writer so entries form a single line."""

    sequence = models.PositiveBigIntegerField(default=0)
    entry_hash = models.CharField(max_length=64, blank=True)

    def __str__(self) -> str:
        return f"audit head #{self.sequence}"
