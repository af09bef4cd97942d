from bankdesk.lib.errors import Conflict, InvalidInput, NotFound


class CaseNotFound(NotFound):
    code = "case_not_found"


class CategoryNotFound(NotFound):
    code = "category_not_found"


class InvalidTransition(Conflict):
    code = "invalid_transition"


class CaseClosed(Conflict):
    code = "case_closed"


class MergeNotAllowed(Conflict):
    code = "merge_not_allowed"


class DuplicateMessage(Conflict):
    code = "duplicate_message"

    def __init__(self, message: str, *, existing_id: int, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.existing_id = existing_id


class AssigneeNotInTeam(InvalidInput):
    code = "assignee_not_in_team"


class AssigneeRecused(InvalidInput):
    """A complaint goes to nobody involved in what it is about (tickets.recusal)."""

    code = "assignee_recused"


class MessageNotFound(NotFound):
    code = "message_not_found"


class AttachmentNotFound(NotFound):
    code = "attachment_not_found"
