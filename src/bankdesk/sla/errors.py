from bankdesk.lib.errors import InvalidInput, NotFound


class CalendarNotFound(NotFound):
    code = "calendar_not_found"


class DeadlineOutOfRange(InvalidInput):
    """The deadline (or its start) falls outside the years business time is known for."""

    code = "deadline_out_of_range"
