"""Who may do what, by role: the `rules` predicates every app's rules are built from."""

from __future__ import annotations

import rules

from bankdesk.staff.choices import Role


def _has_role(*roles: str) -> rules.Predicate:
    @rules.predicate(name=f"has_role_{'_'.join(roles)}")
    def has_role(user: object) -> bool:
        return bool(getattr(user, "is_active", False)) and getattr(user, "role", None) in roles

    return has_role


is_agent = _has_role(Role.AGENT)
is_supervisor = _has_role(Role.SUPERVISOR)
is_complaint_officer = _has_role(Role.COMPLAINT_OFFICER)
is_auditor = _has_role(Role.AUDITOR)
is_admin = _has_role(Role.ADMIN)

# People who work cases: they open, answer, move and merge them.
works_cases = _has_role(Role.AGENT, Role.SUPERVISOR, Role.COMPLAINT_OFFICER)
# People who hand work out to others.
assigns_cases = _has_role(Role.SUPERVISOR, Role.COMPLAINT_OFFICER)
# People who may see a customer's full identifiers, for a stated reason that is audited.
reveals_customer_data = _has_role(Role.SUPERVISOR, Role.COMPLAINT_OFFICER, Role.AUDITOR)
# Every role that deals with customers (auditors read, never write).
reads_customers = _has_role(Role.AGENT, Role.SUPERVISOR, Role.COMPLAINT_OFFICER, Role.AUDITOR)
