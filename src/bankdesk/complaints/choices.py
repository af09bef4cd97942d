from django.db import models
from django.utils.translation import gettext_lazy as _

from bankdesk.tickets.choices import COMPLAINT_DECISION_STEP


class ComplaintStatus(models.TextChoices):
    """The regulated process, in order: received, acknowledged to the customer, investigated,
    decided (with a remedy), closed once the customer confirms or the objection is answered."""

    RECEIVED = "received", _("Newly received")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    INVESTIGATING = "investigating", _("Under investigation")
    DECIDED = "decided", _("Decided")
    CLOSED = "closed", _("Closed")


class CustomerResponse(models.TextChoices):
    CONFIRMED = "confirmed", _("Accepted the decision")
    OBJECTED = "objected", _("Objected to the decision")


class ClassKind(models.TextChoices):
    """The three axes of the complaint taxonomy (in the spirit of JR/T 0169)."""

    PRODUCT = "product", _("Product or service")
    ISSUE = "issue", _("Issue")
    CAUSE = "cause", _("Cause")


class Step(models.TextChoices):
    """A step of a complaint, as its case history records it."""

    OPENED = "opened", _("Complaint opened")
    OWNER = "owner", _("Owner named")
    DETAILS = "details", _("Details recorded")
    CLASSIFIED = "classified", _("Classified")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged to the customer")
    INVESTIGATING = "investigating", _("Investigation started")
    DECIDED = COMPLAINT_DECISION_STEP, _("Decision and remedy")
    RESPONSE = "response", _("Customer's response")
    CLOSED = "closed", _("Complaint closed")
    REOPENED = "reopened", _("Complaint reopened")
    EXTENSION_REQUESTED = "extension_requested", _("Deadline extension asked for")
    EXTENSION_APPROVED = "extension_approved", _("Deadline extension approved, customer told")
    EXTENSION_REFUSED = "extension_refused", _("Deadline extension refused")


# Which status each step may be taken from, and the status it leaves.
MOVES: dict[str, tuple[frozenset[str], str | None]] = {
    Step.ACKNOWLEDGED: (frozenset({ComplaintStatus.RECEIVED}), ComplaintStatus.ACKNOWLEDGED),
    Step.INVESTIGATING: (
        frozenset({ComplaintStatus.RECEIVED, ComplaintStatus.ACKNOWLEDGED}),
        ComplaintStatus.INVESTIGATING,
    ),
    Step.DECIDED: (
        frozenset(
            {ComplaintStatus.ACKNOWLEDGED, ComplaintStatus.INVESTIGATING, ComplaintStatus.RECEIVED}
        ),
        ComplaintStatus.DECIDED,
    ),
    Step.RESPONSE: (frozenset({ComplaintStatus.DECIDED}), None),
    Step.CLOSED: (frozenset({ComplaintStatus.DECIDED}), ComplaintStatus.CLOSED),
    Step.REOPENED: (frozenset({ComplaintStatus.CLOSED}), ComplaintStatus.INVESTIGATING),
}


class ExtensionStatus(models.TextChoices):
    REQUESTED = "requested", _("Awaiting approval")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")


class HotspotDimension(models.TextChoices):
    """What complaints are grouped by to find a hotspot."""

    PRODUCT = "product", _("Product")
    ISSUE = "issue", _("Issue")
    CAUSE = "cause", _("Cause")
    BRANCH = "branch", _("Branch")
    CHANNEL = "channel", _("Channel")
    TEXT = "text", _("What customers wrote")


class RootCauseStatus(models.TextChoices):
    OPEN = "open", _("Being rectified")
    RECTIFIED = "rectified", _("Rectified")


class RectificationStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class ExampleSource(models.TextChoices):
    """Where a classification example came from."""

    CORRECTION = "correction", _("An officer's correction")
    CONFIRMATION = "confirmation", _("An officer's confirmation")
    IMPORT = "import", _("Imported complaints")
