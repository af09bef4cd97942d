"""Assistant permissions: people who serve customers (and integrations acting for them)
converse through it; admins teach it and train it; supervisors, auditors and admins read how
it does (its figures include what customers asked that it could not answer)."""

from __future__ import annotations

import rules

from bankdesk.staff.predicates import is_admin, is_auditor, is_supervisor, works_cases

rules.add_perm("assistant.converse", works_cases)
rules.add_perm("assistant.view_intent", works_cases | is_auditor | is_admin)
rules.add_perm("assistant.add_intent", is_admin)
rules.add_perm("assistant.view_modelversion", is_auditor | is_admin)
rules.add_perm("assistant.add_modelversion", is_admin)
rules.add_perm("assistant.view_dialogue", is_supervisor | is_auditor | is_admin)
