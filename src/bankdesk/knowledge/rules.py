"""Knowledge permissions: people who serve customers write drafts; supervisors and admins
publish them, never their own (four eyes on what customers are told)."""

from __future__ import annotations

import rules

from bankdesk.staff.predicates import assigns_cases, is_admin, is_auditor, works_cases

rules.add_perm("knowledge.view_article", works_cases | is_auditor | is_admin)
rules.add_perm("knowledge.add_article", works_cases | is_admin)
rules.add_perm("knowledge.publish_article", assigns_cases | is_admin)
