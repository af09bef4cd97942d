from bankdesk.lib.errors import Conflict, InvalidInput


class ComplaintStepRefused(Conflict):
    """The step cannot be taken from where the complaint stands."""

    code = "complaint_step_refused"


class OwnerNotOnComplaintTeam(InvalidInput):
    code = "owner_not_on_complaint_team"
