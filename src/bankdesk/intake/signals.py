"""What the intake app asks of the apps built on it."""

from django.dispatch import Signal

# A chat customer tapped a rating in the widget: receivers get `case_id` (the chat's case),
# `token` (the survey link's token the widget was given) and `score`, and answer with what
# became of it: "stored", "used", "expired", "forged" or "invalid" (the feedback app records
# it). No receiver: the rating is not taken.
chat_rated = Signal()
