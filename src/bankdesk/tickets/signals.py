"""What the tickets app tells the apps built on it, inside the transaction that did it."""

from django.dispatch import Signal

# A case is handled as a complaint from now on (opened as one, or found to be one): receivers
# get `case` and `actor`, and must do their part in the same transaction (the complaints app
# opens its record here).
complaint_opened = Signal()
