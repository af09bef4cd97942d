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
# Asking for a statutory deadline's extension is the complaint team's; approving it a
# supervisor's (never their own request: complaints/extensions.py).
rules.add_perm("complaints.add_complaintextension", is_complaint_officer | is_supervisor)
rules.add_perm("complaints.approve_complaintextension", is_supervisor)
# Root causes of hotspots and their rectification: found and worked by the complaint team and
# supervisors (complaints/rectification.py); auditors read them.
rules.add_perm("complaints.view_rootcause", is_complaint_officer | is_supervisor | is_auditor)
rules.add_perm("complaints.change_rootcause", is_complaint_officer | is_supervisor)
