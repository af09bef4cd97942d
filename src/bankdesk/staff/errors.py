from bankdesk.lib.errors import Conflict, InvalidInput, NotFound, PermissionDenied


class StaffNotFound(NotFound):
    code = "staff_not_found"


class TeamNotFound(NotFound):
    code = "team_not_found"


class InvalidRole(InvalidInput):
    code = "invalid_role"


class SkillNotFound(NotFound):
    code = "skill_not_found"


class BranchNotFound(NotFound):
    code = "branch_not_found"


class RoleChangeNotFound(NotFound):
    code = "role_change_not_found"


class RoleChangeRefused(PermissionDenied):
    """Four eyes: the caller may see the request but is not the one who may take this step."""

    code = "role_change_refused"


class RoleChangeConflict(Conflict):
    """The request clashes with the person's or the request's current state."""

    code = "role_change_conflict"
