"""SLA permissions: policies are configuration; clocks are read with the case they belong to."""

from __future__ import annotations

import rules

from bankdesk.staff.predicates import is_admin, is_auditor, works_cases

# Everyone who deals with cases may read the terms they work under.
rules.add_perm("sla.view_slapolicy", works_cases | is_auditor | is_admin)
# Service levels are the bank's configuration: admins write them.
rules.add_perm("sla.add_slapolicy", is_admin)
