"""Assignment to people: least-loaded within capacity, race-free under concurrent assigners."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Count, Q

from bankdesk.staff.choices import Presence, Role
from bankdesk.staff.models import Team, User
from bankdesk.tickets.choices import ACTIVE_STATUSES
from bankdesk.tickets.models import Case
from bankdesk.tickets.services import case_assign

WORKING_ROLES = (Role.AGENT, Role.SUPERVISOR, Role.COMPLAINT_OFFICER)


@transaction.atomic
def case_route_to_least_loaded(*, case: Case, team: Team, actor: User | None) -> User | None:
    """Give an unassigned case to the available member of `team` with the fewest open cases,
    never beyond anyone's `max_open_cases`. Returns the assignee, or None when nobody has room
    or the case was meanwhile taken.

    The team's members are locked (in id order, so assigners never deadlock) for the length of
    the transaction: two assigners of one team take turns, so neither can count a load the
    other is about to change. The case row is locked by the assignment itself, which refuses a
    case someone else assigned a moment earlier.
    """
    members = list(
        User.objects.select_for_update()
        .filter(
            teams=team,
            is_active=True,
            role__in=WORKING_ROLES,
            presence=Presence.AVAILABLE,
        )
        .order_by("pk")
    )
    if not members:
        return None
    loads = dict(
        User.objects.filter(pk__in=[m.pk for m in members])
        .annotate(
            open_cases=Count(
                "assigned_cases", filter=Q(assigned_cases__status__in=sorted(ACTIVE_STATUSES))
            )
        )
        .values_list("pk", "open_cases")
    )
    candidates = [m for m in members if loads.get(m.pk, 0) < m.max_open_cases]
    if not candidates:
        return None
    chosen = min(candidates, key=lambda m: (loads.get(m.pk, 0), m.pk))
    locked = Case.objects.select_for_update().get(pk=case.pk)
    if locked.assignee_id is not None:
        return None
    case_assign(case=locked, team=team, assignee=chosen, actor=actor)
    return chosen
