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
