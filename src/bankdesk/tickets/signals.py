"""What the tickets app tells the apps built on it, inside the transaction that did it."""

from django.dispatch import Signal

# A case is handled as a complaint from now on (opened as one, or found to be one): receivers
# get `case` and `actor`, and must do their part in the same transaction (the complaints app
# opens its record here).
complaint_opened = Signal()

# A case has just become resolved (first time or again, after a reopen): receivers get `case`
# (locked by the caller) and `actor`, and do their part in the same transaction (the feedback
# app plans the follow-up call and the survey here).
case_resolved = Signal()

# Routing is about to choose a queue for a new case: receivers get `case` and may answer with a
# `tickets.routing.Preference` (a person to try first, a team, a floor on the priority) that
# goes before the routing rules; the personalization app answers with the customer's service
# plan here. The first answer that is not None counts.
routing_preference = Signal()
