"""Follow-up and survey permissions: whoever works cases makes follow-up calls; supervisors,
the complaint team and auditors read the indicators; supervisors and admins keep the rules and
the survey templates."""

from __future__ import annotations

import rules

from bankdesk.staff.predicates import (
    is_admin,
    is_auditor,
    is_complaint_officer,
    is_supervisor,
    works_cases,
)

rules.add_perm("feedback.view_followup", works_cases | is_auditor)
rules.add_perm("feedback.change_followup", works_cases)
rules.add_perm("feedback.view_indicators", is_supervisor | is_complaint_officer | is_auditor)
rules.add_perm("feedback.view_followuprule", is_supervisor | is_admin | is_auditor)
rules.add_perm("feedback.change_followuprule", is_supervisor | is_admin)
rules.add_perm("feedback.view_surveytemplate", is_supervisor | is_admin | is_auditor)
rules.add_perm("feedback.change_surveytemplate", is_supervisor | is_admin)
