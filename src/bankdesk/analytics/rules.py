"""Analytics permissions: supervisors, the complaint team, auditors and administrators read the
dashboard, the drill-downs and the quarterly evaluation; whoever works cases sees the wallboard;
administrators set the targets."""

from __future__ import annotations

import rules

from bankdesk.staff.predicates import (
    is_admin,
    is_auditor,
    is_complaint_officer,
    is_supervisor,
    works_cases,
)

rules.add_perm(
    "analytics.view_dashboard", is_supervisor | is_complaint_officer | is_auditor | is_admin
)
rules.add_perm("analytics.view_wallboard", works_cases | is_auditor)
rules.add_perm(
    "analytics.view_target", is_supervisor | is_complaint_officer | is_auditor | is_admin
)
rules.add_perm("analytics.change_target", is_admin)
