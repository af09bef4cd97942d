"""Staff permissions: who may ask for and decide role changes, and who reads them."""

from __future__ import annotations

import rules

from bankdesk.staff.predicates import is_admin, is_auditor

# Administrators ask and decide; the services add that the two are different people.
rules.add_perm("staff.add_rolechangerequest", is_admin)
rules.add_perm("staff.decide_rolechangerequest", is_admin)
# Auditors read everything, role changes included.
rules.add_perm("staff.view_rolechangerequest", is_admin | is_auditor)
