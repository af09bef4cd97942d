from collections.abc import Sequence

from bankdesk.lib.errors import Conflict, InvalidInput, NotFound


class CalendarNotFound(NotFound):
    code = "calendar_not_found"


class DeadlineOutOfRange(InvalidInput):
    """The deadline (or its start) falls outside the years business time is known for."""

    code = "deadline_out_of_range"


class PolicyNotFound(NotFound):
    code = "sla_policy_not_found"


class PolicyExists(Conflict):
    code = "sla_policy_exists"


class NoticeInvalid(InvalidInput):
    """An official holiday notice that cannot be loaded, with every problem found, each naming
    its line in the file; nothing of it is loaded."""

    code = "calendar_notice_invalid"

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(self.problems), field="file")


class ExtensionRefused(Conflict):
    """A clock that cannot be extended: no longer limit left, already met, cancelled or past
    its deadline."""

    code = "sla_extension_refused"
