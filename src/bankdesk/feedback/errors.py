from bankdesk.lib.errors import Conflict, InvalidInput


class FollowUpFinished(Conflict):
    code = "follow_up_finished"


class SurveyLinkInvalid(InvalidInput):
    """A survey link that is forged, damaged, expired or already used."""

    code = "survey_link_invalid"


class SurveyAnswerRefused(InvalidInput):
    """An answer the survey cannot take; `code` says why (out_of_range, too_long, required)."""


class SurveyAnswered(Conflict):
    code = "survey_answered"
