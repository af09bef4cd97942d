"""Assistant permissions: people who serve customers (and integrations acting for them)
converse through it; admins teach it and train it; auditors read its figures."""

from __future__ import annotations

import rules

from bankdesk.staff.predicates import is_admin, is_auditor, works_cases

rules.add_perm("assistant.converse", works_cases)
rules.add_perm("assistant.view_intent", works_cases | is_auditor | is_admin)
rules.add_perm("assistant.add_intent", is_admin)
rules.add_perm("assistant.view_modelversion", is_auditor | is_admin)
rules.add_perm("assistant.add_modelversion", is_admin)
