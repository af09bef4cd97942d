"""Customer permissions."""

from __future__ import annotations

import rules

from bankdesk.staff.predicates import reads_customers, reveals_customer_data, works_cases

rules.add_perm("customers.view_customer", reads_customers)
rules.add_perm("customers.add_customer", works_cases)
rules.add_perm("customers.reveal_customer", reveals_customer_data)
# Folding a provisional contact into the customer it turned out to be: whoever works cases
# (the caller has just proved who they are), audited with the reason.
rules.add_perm("customers.merge_customer", works_cases)
# The profile's preferences, consents and life events: whoever works cases records what the
# customer tells them (audited); auditors read.
rules.add_perm("customers.change_customer", works_cases)
