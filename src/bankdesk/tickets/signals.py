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
