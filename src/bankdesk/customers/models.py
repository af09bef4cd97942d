"""The bank's customers as the service centre knows them: who they are and how to reach them."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bankdesk.customers.choices import (
    ConsentPurpose,
    ConsentSource,
    Dialect,
    HoldingKind,
    HoldingStatus,
    IdentityKind,
    Language,
    LifeEventKind,
    LinkKind,
    Segment,
    Tier,
)
from bankdesk.lib.channels import Channel
from bankdesk.security.classification import PFIClass
from bankdesk.security.encrypted_model import EncryptedModel
from bankdesk.security.fields import EncryptedTextField
from bankdesk.staff.models import User


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
    # Born in: enough for an age band, never the date of birth (a year alone names nobody).
    birth_year = models.PositiveSmallIntegerField(_("year of birth"), null=True, blank=True)
    dialect = models.CharField(_("dialect"), max_length=20, choices=Dialect.choices, blank=True)
    # AccessibilityNeed codes joined by commas ("large_print,hearing"): close to health data,
    # so sealed like a name; read through `accessibility_needs()`.
    accessibility = EncryptedTextField(
        _("accessibility needs"), pfi_class=PFIClass.C2, blank=True, default=""
    )
    relationship_manager = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="managed_customers",
        verbose_name=_("relationship manager"),
    )
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
        "birth_year": PFIClass.C1,
        "dialect": PFIClass.C1,
        "accessibility": PFIClass.C2,
        "relationship_manager": PFIClass.C1,
        "is_provisional": PFIClass.C1,
        "created_at": PFIClass.C1,
        "updated_at": PFIClass.C1,
    }

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.customer_number

    def accessibility_needs(self) -> list[str]:
        return [code for code in (self.accessibility or "").split(",") if code]


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


class Consent(models.Model):
    """One thing the customer said about one purpose: given or withdrawn, when, where and to
    whom. Rows are only ever added; the newest per purpose is what holds now."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(max_length=20, choices=ConsentPurpose.choices)
    granted = models.BooleanField()
    source = models.CharField(max_length=20, choices=ConsentSource.choices)
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["customer", "purpose", "-recorded_at"])]

    def __str__(self) -> str:
        return f"{self.purpose} {'granted' if self.granted else 'withdrawn'} ({self.customer_id})"


class CustomerLink(models.Model):
    """`customer` is `kind` of `other`: spouse, parent of, owner of the business …"""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="links")
    other = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="linked_from")
    kind = models.CharField(max_length=20, choices=LinkKind.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "other", "kind"], name="customer_link_once"
            ),
            models.CheckConstraint(
                condition=~models.Q(customer=models.F("other")), name="customer_link_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.kind} {self.other_id}"


class LifeEvent(models.Model):
    """A moment in the customer's life the bank recorded (retired, opened a business …)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="life_events")
    kind = models.CharField(max_length=20, choices=LifeEventKind.choices)
    occurred_on = models.DateField()
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-occurred_on", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} on {self.occurred_on}"
