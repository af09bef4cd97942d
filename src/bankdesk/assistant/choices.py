from django.db import models
from django.utils.translation import gettext_lazy as _

# The label that teaches the classifier what is not a bank matter.
OUT_OF_SCOPE = "oos"


class ExampleSource(models.TextChoices):
    SEED = "seed", _("Shipped with bankdesk")
    IMPORT = "import", _("Imported from a file")
    ADMIN = "admin", _("Added by an administrator")


class ModelStatus(models.TextChoices):
    TRAINING = "training", _("Training")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")


class DialogueStatus(models.TextChoices):
    ASSISTANT = "assistant", _("With the assistant")
    HANDED_OFF = "handed_off", _("Handed to a person")


class Speaker(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    ASSISTANT = "assistant", _("Assistant")


class Action(models.TextChoices):
    """What the assistant did with a customer's message."""

    ANSWER = "answer", _("Answered")
    CLARIFY = "clarify", _("Asked which of two matters")
    FALLBACK = "fallback", _("Said it cannot help with that")
    HANDOFF = "handoff", _("Handed to a person")
    RELAY = "relay", _("Passed to the person on the case")


class HandoffReason(models.TextChoices):
    """Why the assistant passed a customer to a person: kept on the case's hand-off event."""

    ASKED = "asked_for_person", _("The customer asked for a person")
    REGULATOR = "regulator_named", _("The customer named a regulator, the press or the law")
    ANGER = "anger", _("The customer is angry")
    COMPLAINT = "complaint", _("The customer made a complaint")
    RISK_INTENT = "risk_intent", _("A matter a person must handle")
    UNSURE = "unsure", _("The assistant could not place the question")
    NO_ANSWER = "no_published_answer", _("No published answer for this matter")


# What an entity the assistant found is, in words, by its kind.
ENTITY_LABELS = {
    "amount": _("Amount"),
    "date": _("Date"),
    "card_last4": _("Card ending"),
    "reference": _("Reference"),
}


def sentiment_label(score: float) -> str:
    """A sentiment score (-1 … 1) as staff read it."""
    if score <= -0.3:
        return str(_("Unhappy"))
    if score >= 0.3:
        return str(_("Content"))
    return str(_("Calm"))
