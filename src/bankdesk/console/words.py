"""Words, not codes: what the console says when a change is refused.

Domain errors carry a stable code and an English message for the API's callers; staff read the
console in their own language, so a refusal they can meet there is said again, translated, by
its code. A message without an entry here was already written for people (and translated where
it was raised).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from bankdesk.intake.errors import ReplyTooLong
from bankdesk.lib.channels import Channel
from bankdesk.lib.errors import BankdeskError

_SAID: dict[str, object] = {
    "case_not_found": _("That case no longer exists, or you may not see it."),
    "not_found": _("That record no longer exists, or you may not see it."),
    "invalid_transition": _("The case cannot move to that status from where it is now."),
    "case_closed": _("The case is closed: a new contact opens a new case."),
    "merge_not_allowed": _("These two cases cannot be merged."),
    "assignee_not_in_team": _("That member of staff is not in the case's team."),
    "forbidden": _("You may read this case but not change it."),
    "duplicate_message": _("This message is already on the case."),
    "rate_limited": _("Too many requests at once. Wait a moment and try again."),
    "delivery_failed": _("The message could not be delivered."),
    "delivery_not_given_up": _("Only a message whose delivery failed can be sent again."),
    "assignee_recused": _(
        "That member of staff is involved in what the complaint is about (handled it, or works "
        "at the branch concerned) and may not handle it."
    ),
    "complaint_step_refused": _("The complaint cannot take that step from where it stands."),
    "owner_not_on_complaint_team": _("The owner must be a member of a complaint team."),
    "reason_required": _("Say why: the reason is kept with the record."),
    "complaint_extension_not_allowed": _(
        "This deadline cannot be extended now: it is met or passed, has no longer limit left, "
        "or an extension of it is already awaiting approval."
    ),
    "sla_extension_refused": _(
        "This deadline cannot be extended now: it is met or passed, or has no longer limit left."
    ),
    "extension_approver_not_supervisor": _("Only a supervisor approves an extension."),
    "follow_up_finished": _("This follow-up is finished: nothing more to record on it."),
    "extension_own_request": _("An extension is approved by someone other than who asked for it."),
    "contact_hours_half": _("Give both ends of the contact hours, or neither."),
    "life_event_in_future": _("A life event is recorded once it has happened."),
    "birth_year_invalid": _("That is not a year of birth."),
    "suggestion_decided": _("This suggestion was already decided."),
    "suggestion_expired": _("This suggestion has expired: it is no longer offered."),
    "suggestion_not_consented": _(
        "The customer's consent no longer allows this suggestion: it is not offered."
    ),
}


def error_text(error: BankdeskError) -> str:
    if isinstance(error, ReplyTooLong):
        return _reply_too_long(error)
    said = _SAID.get(error.code)
    return str(said) if said is not None else error.message


def _reply_too_long(error: ReplyTooLong) -> str:
    channel = Channel(error.channel).label if error.channel in Channel.values else error.channel
    if error.unit == "bytes":
        said = ngettext(
            "%(channel)s carries a reply of at most %(limit)d byte; this one has %(size)d "
            "(a Chinese character is 3 bytes). Shorten it or send it in parts.",
            "%(channel)s carries a reply of at most %(limit)d bytes; this one has %(size)d "
            "(a Chinese character is 3 bytes). Shorten it or send it in parts.",
            error.limit,
        )
    else:
        said = ngettext(
            "%(channel)s carries a reply of at most %(limit)d character; this one has "
            "%(size)d. Shorten it or send it in parts.",
            "%(channel)s carries a reply of at most %(limit)d characters; this one has "
            "%(size)d. Shorten it or send it in parts.",
            error.limit,
        )
    return said % {"channel": channel, "limit": error.limit, "size": error.size}
