from bankdesk.lib.errors import InvalidInput, NotFound


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
