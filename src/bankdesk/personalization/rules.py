"""Personalised-service permissions."""

from __future__ import annotations

import rules

from bankdesk.staff.predicates import assigns_cases, is_admin, is_auditor, works_cases

# Deciding on a suggestion: whoever works the customer's cases.
rules.add_perm("personalization.decide_suggestion", works_cases)
# Reading segments, plans, outcomes and events: the people who lead the centre and audit it.
rules.add_perm("personalization.view_personalization", assigns_cases | is_admin | is_auditor)
# Events: supervisors run them (create, invite, take attendance, cancel).
rules.add_perm("personalization.run_events", assigns_cases | is_admin)
# Segments and plans are the bank's policy: administrators change them.
rules.add_perm("personalization.change_plans", is_admin)
