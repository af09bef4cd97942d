"""Channel permissions: who may send a given-up reply again."""

from __future__ import annotations

import rules

from bankdesk.staff.predicates import assigns_cases

# Sending again is a judgement that what made the reply fail (an address, a provider) is fixed:
# the people who lead the work decide it, on cases they may change.
rules.add_perm("intake.retry_outboxmessage", assigns_cases)
