"""The bank's customers as the service centre knows them: who they are and how to reach them."""

from __future__ import annotations

from typing import ClassVar

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
from bankdesk.security.classification import PFIClass
from bankdesk.security.encrypted_model import EncryptedModel
from bankdesk.security.fields import EncryptedTextField


class Customer(EncryptedModel):
    """One bank customer; every channel's contacts resolve to one of these, so one timeline."""

    customer_number = models.CharField(_("customer number"), max_length=32, unique=True)
    name = EncryptedTextField(_("name"), pfi_class=PFIClass.C2)
    segment = models.CharField(max_length=20, choices=Segment.choices, default=Segment.RETAIL)
    tier = models.CharField(max_length=20, choices=Tier.choices, default=Tier.STANDARD)
    preferred_language = models.CharField(
        max_length=10, choices=Language.choices, default=Language.ZH_HANS
    )
    preferred_channel = models.CharField(max_length=20, choices=Channel.choices, blank=True)
    # When the customer likes to be called (follow-up calls show it); both or neither.
    contact_from = models.TimeField(_("call from"), null=True, blank=True)
    contact_until = models.TimeField(_("call until"), null=True, blank=True)
    # Contacts nobody has matched to a real customer yet; staff merge them later.
    is_provisional = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    PFI_CLASSES: ClassVar[dict[str, PFIClass]] = {
        "id": PFIClass.C1,
        "customer_number": PFIClass.C1,
        "name": PFIClass.C2,
        "segment": PFIClass.C1,
        "tier": PFIClass.C1,
        "preferred_language": PFIClass.C1,
        "preferred_channel": PFIClass.C1,
        "contact_from": PFIClass.C1,
        "contact_until": PFIClass.C1,
        "is_provisional": PFIClass.C1,
        "created_at": PFIClass.C1,
        "updated_at": PFIClass.C1,
    }

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.customer_number


class Identity(EncryptedModel):
    """A way the customer identifies themselves on a channel (phone, e-mail, openid, ID number)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="identities")
    kind = models.CharField(max_length=20, choices=IdentityKind.choices)
    # In canonical form (E.164, lower-case e-mail, upper-case ID), encrypted. C3 because ID
    # numbers are; phones and e-mail are C2.
    value = EncryptedTextField(pfi_class=PFIClass.C3)
    # Keyed HMAC of the canonical form (E.164 phone, lower-case e-mail, upper-case ID):
    # equality lookups without the value ever being stored readable.
    lookup = models.CharField(max_length=64)
    is_verified = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    PFI_CLASSES: ClassVar[dict[str, PFIClass]] = {
        "id": PFIClass.C1,
        "customer": PFIClass.C1,
        "kind": PFIClass.C1,
        "value": PFIClass.C3,
        "lookup": PFIClass.C1,
        "is_verified": PFIClass.C1,
        "created_at": PFIClass.C1,
    }

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "lookup"], name="identity_unique_per_kind"),
        ]
        verbose_name_plural = "identities"

    def __str__(self) -> str:
        return f"{self.kind} of customer {self.customer_id}"


class Holding(EncryptedModel):
    """A product the customer holds. Only a reference and the last 4 digits: never a full number."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="holdings")
    kind = models.CharField(max_length=20, choices=HoldingKind.choices)
    product = models.CharField(_("product"), max_length=120)
    reference = EncryptedTextField(
        pfi_class=PFIClass.C2,
        help_text=_("The core-banking system's reference, not the card number."),
    )
    reference_lookup = models.CharField(max_length=64)
    last4 = models.CharField(max_length=4)
    status = models.CharField(
        max_length=20, choices=HoldingStatus.choices, default=HoldingStatus.ACTIVE
    )
    opened_on = models.DateField(null=True, blank=True)

    PFI_CLASSES: ClassVar[dict[str, PFIClass]] = {
        "id": PFIClass.C1,
        "customer": PFIClass.C1,
        "kind": PFIClass.C1,
        "product": PFIClass.C1,
        "reference": PFIClass.C2,
        "reference_lookup": PFIClass.C1,
        "last4": PFIClass.C1,
        "status": PFIClass.C1,
        "opened_on": PFIClass.C1,
    }

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "reference_lookup"], name="holding_unique_reference"
            ),
            models.CheckConstraint(
                condition=models.Q(last4__regex=r"^[0-9]{4}$"), name="holding_last4_digits"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product} ****{self.last4}"
