"""Recusal: nobody involved in what a complaint is about owns or handles it.

Involved are the people who handled the case before it became a complaint (its assignees up to
the moment it was opened as one) and those who handled the cases it refers to (their
assignees, and whoever answered the customer on them), and the staff of the branch the
complaint is about (the case's branch).
"""

from __future__ import annotations

from bankdesk.staff.models import User
from bankdesk.tickets.choices import Direction, EventKind, LinkRelation
from bankdesk.tickets.models import Case, CaseEvent, Message

# Why someone is recused, as the refusal says it.
HANDLED_BEFORE = "handled_before"
HANDLED_REFERRED = "handled_referred"
BRANCH_STAFF = "branch_staff"


def _assignees(events: list[dict[str, object]]) -> set[int]:
    people: set[int] = set()
    for data in events:
        for key in ("assignee_id", "previous_assignee_id"):
            value = data.get(key)
            if isinstance(value, int):
                people.add(value)
    return people


def recused_staff(case: Case) -> dict[int, str]:
    """The staff who may not handle complaint `case`, each with why; empty for other cases."""
    if not case.is_complaint:
        return {}
    opened = (
        CaseEvent.objects.filter(case=case, kind=EventKind.COMPLAINT_OPENED)
        .order_by("id")
        .values_list("id", flat=True)
        .first()
    )
    recused: dict[int, str] = {}
    if opened is not None:
        before = CaseEvent.objects.filter(case=case, kind=EventKind.ASSIGNED, id__lt=opened)
        for person in _assignees(list(before.values_list("data", flat=True))):
            recused[person] = HANDLED_BEFORE
    referred = [
        data.get("linked_case_id")
        for data in CaseEvent.objects.filter(case=case, kind=EventKind.LINKED).values_list(
            "data", flat=True
        )
        if data.get("relation") == LinkRelation.REFERS_TO
    ]
    referred_ids = [pk for pk in referred if isinstance(pk, int)]
    if referred_ids:
        handled = _assignees(
            list(
                CaseEvent.objects.filter(
                    case_id__in=referred_ids, kind=EventKind.ASSIGNED
                ).values_list("data", flat=True)
            )
        )
        handled |= {
            pk
            for pk in Case.objects.filter(pk__in=referred_ids).values_list("assignee_id", flat=True)
            if pk is not None
        }
        handled |= {
            pk
            for pk in Message.objects.filter(
                case_id__in=referred_ids, direction=Direction.OUTBOUND
            ).values_list("author_id", flat=True)
            if pk is not None
        }
        for person in handled:
            recused.setdefault(person, HANDLED_REFERRED)
    if case.branch_id is not None:
        for person in User.objects.filter(branch_id=case.branch_id).values_list("pk", flat=True):
            recused.setdefault(person, BRANCH_STAFF)
    return recused
