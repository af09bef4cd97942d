"""Staff permissions: who may ask for and decide role changes, and who reads them; and the
permissions on the records of the security app, which sits below staff and so cannot name roles
itself."""

from __future__ import annotations

import rules

from bankdesk.staff.predicates import is_admin, is_auditor

# Administrators ask and decide; the services add that the two are different people.
rules.add_perm("staff.add_rolechangerequest", is_admin)
rules.add_perm("staff.decide_rolechangerequest", is_admin)
# Auditors read everything, role changes included.
rules.add_perm("staff.view_rolechangerequest", is_admin | is_auditor)
# The audit log: auditors read it, nobody changes it. Not admins: they configure the system
# whose changes the log records, and reviewing one's own trail is not an audit.
rules.add_perm("security.view_auditentry", is_auditor)
