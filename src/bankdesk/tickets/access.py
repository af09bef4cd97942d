"""The one gate for reading and changing cases: every API handler and screen asks here.

Scope: agents see the cases of their teams and their own (assigned to or opened by them);
supervisors also the cases not yet routed to a team; complaint officers also every complaint;
auditors every case, read-only; admins none unless BANKDESK_ADMIN_READS_CASES. A case outside
the caller's scope answers exactly like a case that does not exist (404); a visible case the
caller may not change answers 403.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import Q, QuerySet

from bankdesk.lib.errors import PermissionDenied
from bankdesk.staff.choices import Role
from bankdesk.staff.models import Team, User
from bankdesk.staff.predicates import assigns_cases
from bankdesk.tickets.errors import CaseNotFound
from bankdesk.tickets.models import Case
from bankdesk.tickets.selectors import (
    CaseFilters,
    CasePage,
    PageOrder,
    ScopeBranch,
    case_page,
    case_queryset,
)


def _team_ids(user: User) -> list[int]:
    cached: list[int] | None = getattr(user, "_bankdesk_team_ids", None)
    if cached is None:
        cached = list(user.teams.values_list("pk", flat=True))
        user._bankdesk_team_ids = cached  # type: ignore[attr-defined]
    return cached


def case_scope_branches(user: User) -> list[ScopeBranch] | None:
    """The cases `user` may see, as a union of simple filters; None means every case.

    Each branch is one column's value (None: the column is empty) with an index that yields its
    cases newest first, so a page of a large case list is a few short index walks merged, never
    a sort of everything the user may see.
    """
    if not user.is_active:
        return []
    if user.role == Role.AUDITOR:
        return None
    if user.role == Role.ADMIN:
        return None if settings.BANKDESK_ADMIN_READS_CASES else []
    branches = [ScopeBranch("team_id", team_id) for team_id in _team_ids(user)]
    branches += [ScopeBranch("assignee_id", user.pk), ScopeBranch("created_by_id", user.pk)]
    if user.role == Role.SUPERVISOR:
        branches.append(ScopeBranch("team_id", None))
    elif user.role == Role.COMPLAINT_OFFICER:
        branches.append(ScopeBranch("is_complaint", True))
    return branches


def reads_cases(user: User) -> bool:
    """Whether any case at all is within `user`'s scope (no query: by role alone)."""
    if not user.is_active:
        return False
    return user.role != Role.ADMIN or bool(settings.BANKDESK_ADMIN_READS_CASES)


def case_scope(user: User) -> Q | None:
    """The same scope as one filter, for reading single cases."""
    branches = case_scope_branches(user)
    if branches is None:
        return None
    scope = Q(pk__in=[])
    for branch in branches:
        scope |= branch.q
    return scope


def case_in_scope(user: User, case: Case) -> bool:
    if not user.is_active:
        return False
    if user.role == Role.AUDITOR:
        return True
    if user.role == Role.ADMIN:
        return bool(settings.BANKDESK_ADMIN_READS_CASES)
    if user.pk in {case.assignee_id, case.created_by_id} or case.team_id in _team_ids(user):
        return True
    if user.role == Role.SUPERVISOR and case.team_id is None:
        return True
    return user.role == Role.COMPLAINT_OFFICER and case.is_complaint


def cases_visible_to(user: User) -> QuerySet[Case]:
    scope = case_scope(user)
    queryset = case_queryset()
    return queryset if scope is None else queryset.filter(scope)


def access_case_by_id(user: User, case_id: int, *, change: bool = False) -> Case:
    """The case, if `user` may see it (and change it, with `change=True`).

    For a change only the case's own row is read: the service re-reads it under its lock, and
    what it shows afterwards is read again whole.
    """
    scope = case_scope(user)
    queryset = Case.objects.all() if change else case_queryset()
    if scope is not None:
        queryset = queryset.filter(scope)
    case = queryset.filter(pk=case_id).first()
    if case is None:
        raise CaseNotFound(f"case {case_id} not found", field="case_id")
    if change and not user.has_perm("tickets.change_case", case):
        raise PermissionDenied("you may read this case but not change it")
    return case


def case_page_for(
    user: User,
    *,
    filters: CaseFilters,
    cursor: str | None,
    limit: int,
    order: str = PageOrder.NEWEST,
) -> CasePage:
    """A page of the cases `user` may see: what the API list and the console show."""
    return case_page(
        queryset=case_queryset(),
        filters=filters,
        cursor=cursor,
        limit=limit,
        branches=case_scope_branches(user),
        order=order,
    )


def assignment_check(user: User, team: Team | None, assignee: User | None) -> None:
    """Supervisors and complaint officers hand work out; anyone who works cases may take a case
    for themselves, within their own teams."""
    if assigns_cases(user):
        return
    takes_for_self = assignee is None or assignee.pk == user.pk
    team_is_own = team is None or team.pk in _team_ids(user)
    if not (takes_for_self and team_is_own):
        raise PermissionDenied("only supervisors assign cases to others or to other teams")
