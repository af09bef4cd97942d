"""Complaint permissions: the complaint team (complaint officers) handles complaints and
supervisors oversee them; auditors read; admins keep the taxonomy."""

from __future__ import annotations

import rules

from bankdesk.staff.predicates import (
    is_admin,
    is_auditor,
    is_complaint_officer,
    is_supervisor,
)

rules.add_perm("complaints.view_complaint", is_complaint_officer | is_supervisor | is_auditor)
rules.add_perm("complaints.change_complaint", is_complaint_officer | is_supervisor)
rules.add_perm("complaints.view_complaintclass", is_complaint_officer | is_supervisor | is_admin)
rules.add_perm("complaints.change_complaintclass", is_admin | is_supervisor)
