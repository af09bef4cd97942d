from django.db import models
from django.utils.translation import gettext_lazy as _


class FollowUpStatus(models.TextChoices):
    """A follow-up's life: open until the customer gives a verdict (done), says no (refused)
    or cannot be reached after every attempt (unreachable)."""

    OPEN = "open", _("To call")
    DONE = "done", _("Done")
    REFUSED = "refused", _("Customer declined")
    UNREACHABLE = "unreachable", _("Could not reach the customer")


FOLLOW_UP_FINISHED = frozenset(
    {FollowUpStatus.DONE, FollowUpStatus.REFUSED, FollowUpStatus.UNREACHABLE}
)


class AttemptOutcome(models.TextChoices):
    REACHED = "reached", _("Reached the customer")
    NO_ANSWER = "no_answer", _("No answer")
    WRONG_NUMBER = "wrong_number", _("Wrong number")
    REFUSED = "refused", _("Customer declined the follow-up")
    CALL_BACK = "call_back", _("Call back later")


class Verdict(models.TextChoices):
    SATISFIED = "satisfied", _("Satisfied")
    NEUTRAL = "neutral", _("Neither satisfied nor unhappy")
    UNSATISFIED = "unsatisfied", _("Not satisfied")


class SurveyStatus(models.TextChoices):
    """Where a case's survey stands. Skipped surveys are kept with their reason, so a rate's
    denominator can be explained."""

    SCHEDULED = "scheduled", _("Invitation queued")
    BY_CALL = "by_call", _("Asked on the follow-up call")
    ANSWERED = "answered", _("Answered")
    SKIPPED = "skipped", _("Not sent")


class SkipReason(models.TextChoices):
    OPTED_OUT = "opted_out", _("The customer asked not to be surveyed")
    RECENTLY_SURVEYED = "recently_surveyed", _("The customer was surveyed recently")
    NO_CUSTOMER = "no_customer", _("No customer on the case")
    NO_CHANNEL = "no_channel", _("No way to reach the customer")


class ResponseSource(models.TextChoices):
    LINK = "link", _("Survey link")
    CHAT = "chat", _("Chat rating")
    CALL = "call", _("Follow-up call")


class QuestionKind(models.TextChoices):
    CSAT = "csat", _("Satisfaction, 1 to 5")
    NPS = "nps", _("Likelihood to recommend, 0 to 10")
    TEXT = "text", _("Free text")


class OptOutSource(models.TextChoices):
    LINK = "link", _("Survey page")
    CALL = "call", _("Follow-up call")
