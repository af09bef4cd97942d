"""The one gate for reading cases: every API handler and screen asks here.

Until role-based rules arrive, every active member of staff may read every case. Whatever the
rule, a case the caller may not see answers exactly like a case that does not exist.
"""

from __future__ import annotations

from django.db.models import QuerySet

from bankdesk.staff.models import User
from bankdesk.tickets.errors import CaseNotFound
from bankdesk.tickets.models import Case
from bankdesk.tickets.selectors import case_queryset


def cases_visible_to(user: User) -> QuerySet[Case]:
    if not user.is_active:
        return case_queryset().none()
    return case_queryset()


def access_case_by_id(user: User, case_id: int) -> Case:
    case = cases_visible_to(user).filter(pk=case_id).first()
    if case is None:
        raise CaseNotFound(f"case {case_id} not found", field="case_id")
    return case
