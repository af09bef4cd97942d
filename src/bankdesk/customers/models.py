"""The bank's customers as the service centre knows them: who they are and how to reach them."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bankdesk.customers.choices import (
    HoldingKind,
    HoldingStatus,
    IdentityKind,
    Language,
    Segment,
    Tier,
)
from bankdesk.lib.channels import Channel


class Customer(models.Model):
    """One bank customer; every channel's contacts resolve to one of these, so one timeline."""

    customer_number = models.CharField(_("customer number"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200)
    segment = models.CharField(max_length=20, choices=Segment.choices, default=Segment.RETAIL)
    tier = models.CharField(max_length=20, choices=Tier.choices, default=Tier.STANDARD)
    preferred_language = models.CharField(
        max_length=10, choices=Language.choices, default=Language.ZH_HANS
    )
    preferred_channel = models.CharField(max_length=20, choices=Channel.choices, blank=True)
    # Contacts nobody has matched to a real customer yet; staff merge them later.
    is_provisional = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.customer_number} {self.name}"


class Identity(models.Model):
    """A way the customer identifies themselves on a channel (phone, e-mail, openid, ID number)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="identities")
    kind = models.CharField(max_length=20, choices=IdentityKind.choices)
    value = models.CharField(max_length=200)
    # The value in canonical form (E.164 phone, lower-case e-mail, upper-case ID) for lookups.
    lookup = models.CharField(max_length=200)
    is_verified = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "lookup"], name="identity_unique_per_kind"),
        ]
        verbose_name_plural = "identities"

    def __str__(self) -> str:
        return f"{self.kind}:{self.customer_id}"


class Holding(models.Model):
    """A product the customer holds. Only a reference and the last 4 digits: never a full number."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="holdings")
    kind = models.CharField(max_length=20, choices=HoldingKind.choices)
    product = models.CharField(_("product"), max_length=120)
    reference = models.CharField(
        max_length=64, help_text=_("The core-banking system's reference, not the card number.")
    )
    last4 = models.CharField(max_length=4)
    status = models.CharField(
        max_length=20, choices=HoldingStatus.choices, default=HoldingStatus.ACTIVE
    )
    opened_on = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "reference"], name="holding_unique_reference"),
            models.CheckConstraint(
                condition=models.Q(last4__regex=r"^[0-9]{4}$"), name="holding_last4_digits"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product} ****{self.last4}"
