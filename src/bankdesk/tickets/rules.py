"""Case permissions: role decides the kind of action, team scope decides which cases."""

from __future__ import annotations

import rules

from bankdesk.staff.predicates import (
    assigns_cases,
    is_admin,
    is_auditor,
    is_supervisor,
    works_cases,
)


@rules.predicate
def in_case_scope(user: object, case: object) -> bool:
    """The case is within what `tickets.access.case_scope` lets this user see."""
    from bankdesk.tickets.access import case_in_scope

    return case is not None and case_in_scope(user, case)  # type: ignore[arg-type]


rules.add_perm("tickets.view_case", in_case_scope)
rules.add_perm("tickets.add_case", works_cases)
rules.add_perm("tickets.change_case", works_cases & in_case_scope)
rules.add_perm("tickets.assign_case", assigns_cases & in_case_scope)
rules.add_perm("tickets.view_category", works_cases | is_auditor | is_admin)
# Routing rules decide where every case goes: supervisors and admins write them, auditors read.
rules.add_perm("tickets.view_routingrule", is_supervisor | is_admin | is_auditor)
rules.add_perm("tickets.add_routingrule", is_supervisor | is_admin)
rules.add_perm("tickets.change_routingrule", is_supervisor | is_admin)
