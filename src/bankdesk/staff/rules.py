"""Permissions on the records of the security app, which sits below staff and so cannot name
roles itself: the staff app grants them here."""

from __future__ import annotations

import rules

from bankdesk.staff.predicates import is_auditor

# The audit log: auditors read it, nobody changes it. Not admins: they configure the system
# whose changes the log records, and reviewing one's own trail is not an audit.
rules.add_perm("security.view_auditentry", is_auditor)
