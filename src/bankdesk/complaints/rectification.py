"""Root causes of complaint hotspots and their rectification (根因与整改).

A root cause is found on a hotspot (one group of complaints: a dimension and a key) and put
right by actions, each with an owner and a due date, moved planned → in progress → done, or
cancelled. The root cause is rectified when every action not cancelled is done; complaints of
the same hotspot received after that are its recurrence — the test of whether the fix held.
Every write is audited in its transaction.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from bankdesk.complaints.choices import RectificationStatus, RootCauseStatus
from bankdesk.complaints.hotspots import Period, hotspot_complaints, hotspot_names
from bankdesk.complaints.models import Complaint, Rectification, RootCause
from bankdesk.complaints.services import checked_text
from bankdesk.lib.errors import Conflict, InvalidInput, PermissionDenied
from bankdesk.security.audit import audit_record
from bankdesk.staff.models import User

VIEW = "complaints.view_rootcause"
CHANGE = "complaints.change_rootcause"
TITLE_MAX = 200
KEY_MAX = 200

# Where an action may go from where it stands.
MOVES: dict[str, frozenset[str]] = {
    RectificationStatus.PLANNED: frozenset(
        {RectificationStatus.IN_PROGRESS, RectificationStatus.CANCELLED}
    ),
    RectificationStatus.IN_PROGRESS: frozenset(
        {RectificationStatus.DONE, RectificationStatus.CANCELLED}
    ),
    RectificationStatus.DONE: frozenset(),
    RectificationStatus.CANCELLED: frozenset(),
}


class RectificationMoveRefused(Conflict):
    code = "rectification_move_refused"


def _allowed(actor: User) -> None:
    if not actor.has_perm(CHANGE):
        raise PermissionDenied("root causes are the complaint team's and supervisors'")


def _person(person: User | None, field: str) -> User | None:
    if person is not None and not person.is_active:
        raise InvalidInput(f"{person} is no longer active", field=field)
    return person


@transaction.atomic
def root_cause_create(
    *,
    dimension: str,
    key: str,
    title: str,
    actor: User,
    description: str = "",
    owner: User | None = None,
) -> RootCause:
    """Record why a hotspot's complaints happen. The hotspot must exist (its name is kept as
    the label, so the root cause still reads well if the taxonomy is renamed)."""
    _allowed(actor)
    if len(key) > KEY_MAX:
        raise InvalidInput(f"key is at most {KEY_MAX} characters", field="key")
    name, _name_en = hotspot_names(dimension, key)
    root_cause = RootCause.objects.create(
        title=checked_text(title, "title", required=True, limit=TITLE_MAX),
        description=checked_text(description, "description", required=False),
        dimension=dimension,
        key=key,
        label=name[:200],
        owner=_person(owner, "owner_id"),
        created_by=actor,
    )
    audit_record(actor=actor, action="complaints.root_cause.create", target=root_cause,
                 fields=["title", "description", "dimension", "key", "owner"])  # fmt: skip
    return root_cause


@transaction.atomic
def rectification_add(
    *, root_cause: RootCause, action: str, owner: User, due_on: date, actor: User
) -> Rectification:
    """One more action to put the root cause right. A rectified root cause given a new action
    is being rectified again."""
    _allowed(actor)
    root_cause = RootCause.objects.select_for_update().get(pk=root_cause.pk)
    text = checked_text(action, "action", required=True)
    _person(owner, "owner_id")
    if due_on < timezone.localdate():
        raise InvalidInput("the due date is not in the past", field="due_on")
    rectification = Rectification.objects.create(
        root_cause=root_cause, action=text, owner=owner, due_on=due_on
    )
    audit_record(actor=actor, action="complaints.rectification.add", target=rectification,
                 fields=["action", "owner", "due_on"])  # fmt: skip
    if root_cause.status == RootCauseStatus.RECTIFIED:
        root_cause.status, root_cause.rectified_at = RootCauseStatus.OPEN, None
        root_cause.save(update_fields=["status", "rectified_at"])
        audit_record(actor=actor, action="complaints.root_cause.reopen", target=root_cause,
                     fields=["status", "rectified_at"])  # fmt: skip
    return rectification


@transaction.atomic
def rectification_move(*, rectification: Rectification, status: str, actor: User) -> Rectification:
    """Move an action on: planned → in progress → done, or cancelled before it is done. When
    the last open action is done, its root cause is rectified."""
    _allowed(actor)
    root_cause = RootCause.objects.select_for_update().get(pk=rectification.root_cause_id)
    rectification = Rectification.objects.select_for_update().get(pk=rectification.pk)
    if status not in RectificationStatus.values:
        raise InvalidInput("unknown state", field="status")
    if status not in MOVES[rectification.status]:
        raise RectificationMoveRefused(
            f"an action that is {rectification.status} cannot become {status}", field="status"
        )
    rectification.status = status
    rectification.done_at = timezone.now() if status == RectificationStatus.DONE else None
    rectification.save(update_fields=["status", "done_at"])
    audit_record(actor=actor, action="complaints.rectification.move", target=rectification,
                 fields=["status", "done_at"], reason=status)  # fmt: skip
    _rectified_check(root_cause, actor)
    return rectification


def _rectified_check(root_cause: RootCause, actor: User) -> None:
    """Rectified when at least one action is done and every action not cancelled is done."""
    states = set(
        root_cause.actions.exclude(status=RectificationStatus.CANCELLED).values_list(
            "status", flat=True
        )
    )
    if states == {RectificationStatus.DONE} and root_cause.status != RootCauseStatus.RECTIFIED:
        root_cause.status, root_cause.rectified_at = RootCauseStatus.RECTIFIED, timezone.now()
        root_cause.save(update_fields=["status", "rectified_at"])
        audit_record(actor=actor, action="complaints.root_cause.rectified", target=root_cause,
                     fields=["status", "rectified_at"])  # fmt: skip


def root_cause_list(dimension: str = "", key: str = "") -> QuerySet[RootCause]:
    """Root causes, newest first, with their actions and owners; of one hotspot if given."""
    root_causes = RootCause.objects.select_related("owner", "created_by").prefetch_related(
        "actions__owner"
    )
    if dimension:
        root_causes = root_causes.filter(dimension=dimension, key=key)
    return root_causes


def recurrence_period(root_cause: RootCause) -> Period | None:
    """From the moment it was rectified up to now (None while it is not rectified)."""
    if root_cause.rectified_at is None:
        return None
    return Period(root_cause.rectified_at, timezone.now() + timedelta(seconds=1))


def root_cause_recurrence(
    root_cause: RootCause, within: QuerySet[Complaint] | None = None
) -> QuerySet[Complaint]:
    """Complaints of the same hotspot received after the root cause was rectified."""
    period = recurrence_period(root_cause)
    if period is None:
        return Complaint.objects.none()
    return hotspot_complaints(
        dimension=root_cause.dimension, key=root_cause.key, period=period, within=within
    )
