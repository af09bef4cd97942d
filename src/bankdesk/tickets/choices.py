from django.db import models
from django.utils.translation import gettext_lazy as _


class CaseStatus(models.TextChoices):
    NEW = "new", _("New")
    OPEN = "open", _("Open")
    PENDING_CUSTOMER = "pending_customer", _("Waiting for customer")
    PENDING_INTERNAL = "pending_internal", _("Waiting on the bank")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


# The case lifecycle. "Reopen" is resolved → open; closed is final (a new contact opens a new case).
TRANSITIONS: dict[str, frozenset[str]] = {
    CaseStatus.NEW: frozenset({CaseStatus.OPEN}),
    CaseStatus.OPEN: frozenset(
        {CaseStatus.PENDING_CUSTOMER, CaseStatus.PENDING_INTERNAL, CaseStatus.RESOLVED}
    ),
    CaseStatus.PENDING_CUSTOMER: frozenset({CaseStatus.OPEN, CaseStatus.RESOLVED}),
    CaseStatus.PENDING_INTERNAL: frozenset({CaseStatus.OPEN, CaseStatus.RESOLVED}),
    CaseStatus.RESOLVED: frozenset({CaseStatus.OPEN, CaseStatus.CLOSED}),
    CaseStatus.CLOSED: frozenset(),
}

ACTIVE_STATUSES = frozenset(
    {CaseStatus.NEW, CaseStatus.OPEN, CaseStatus.PENDING_CUSTOMER, CaseStatus.PENDING_INTERNAL}
)


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


# Least urgent first.
PRIORITY_ORDER: tuple[str, ...] = tuple(Priority.values)


def priority_at_least(current: str, floor: str) -> str:
    """The more urgent of the two (the other when one is empty or unknown)."""
    if floor not in PRIORITY_ORDER:
        return current
    if current not in PRIORITY_ORDER:
        return floor
    return max(current, floor, key=PRIORITY_ORDER.index)


class Direction(models.TextChoices):
    INBOUND = "inbound", _("From customer")
    OUTBOUND = "outbound", _("To customer")


class EventKind(models.TextChoices):
    CREATED = "created", _("Created")
    STATUS_CHANGED = "status_changed", _("Status changed")
    PRIORITY_CHANGED = "priority_changed", _("Priority changed")
    CATEGORY_CHANGED = "category_changed", _("Category changed")
    ASSIGNED = "assigned", _("Assigned")
    MESSAGE_ADDED = "message_added", _("Message added")
    NOTE_ADDED = "note_added", _("Internal note added")
    TAGS_CHANGED = "tags_changed", _("Tags changed")
    MERGED_INTO = "merged_into", _("Merged into another case")
    MERGED_FROM = "merged_from", _("Another case merged in")
    ASSISTANT_HANDOFF = "assistant_handoff", _("Handed over by the assistant")
    LINKED = "linked", _("Linked to another case")
    CONTACT_NOT_ON_FILE = (
        "contact_not_on_file",
        _("Message from a contact not on the customer's file"),
    )
    DELIVERY_FAILED = "delivery_failed", _("Reply not delivered")
    DELIVERY_RETRIED = "delivery_retried", _("Reply sent again")
    COMPLAINT_OPENED = "complaint_opened", _("Handled as a complaint")
    COMPLAINT_STEP = "complaint_step", _("Complaint step")
    FOLLOW_UP = "follow_up", _("Follow-up call")
    SURVEY_ANSWERED = "survey_answered", _("Satisfaction survey answered")


# The complaint step that gives the customer the bank's decision: statutory deadlines stop on it
# (the complaints app names its steps; the SLA replay reads this one from the case history).
COMPLAINT_DECISION_STEP = "decided"


class LinkRelation(models.TextChoices):
    """How a linked case stands to the other: a message on one named the other."""

    REFERS_TO = "refers_to", _("Refers to")
    REFERRED_TO_BY = "referred_to_by", _("Referred to by")


class DeliveryStatus(models.TextChoices):
    """What became of a reply on its way to the customer; blank for what bankdesk does not
    send (the customer's own messages, replies only recorded, such as after a phone call)."""

    QUEUED = "queued", _("Waiting to be sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Not delivered")


class RoutingStrategy(models.TextChoices):
    """How a routing rule picks the person within its team."""

    ROUND_ROBIN = "round_robin", _("Round robin")
    LEAST_LOADED = "least_loaded", _("Least loaded")
    MANUAL = "manual", _("Queue only (a supervisor assigns)")


class RoutingReason(models.TextChoices):
    """Why routing left a case as it did: the answer a supervisor reads back."""

    ASSIGNED = "assigned", _("Given to a member of the team")
    QUEUED = "queued", _("Put in the team's queue for a supervisor to assign")
    NOBODY_AVAILABLE = "nobody_available", _("Put in the team's queue: nobody eligible has room")
    ALREADY_ASSIGNED = "already_assigned", _("Already has an assignee; left as it is")
    NO_RULE = "no_rule", _("No routing rule matches; left as it is")
    SERVICE_PLAN = "service_plan", _("Given to whom the customer's service plan names")


class Activity(models.TextChoices):
    """What a member of staff is doing on a case, for collision detection."""

    VIEWING = "viewing", _("Viewing")
    REPLYING = "replying", _("Replying")
