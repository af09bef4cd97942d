"""The API's look-ups by id for what a case refers to: an unknown id is a 404 naming its field."""

from __future__ import annotations

from bankdesk.staff.errors import BranchNotFound, TeamNotFound
from bankdesk.staff.models import Branch, Team
from bankdesk.staff.selectors import team_get
from bankdesk.tickets.errors import CategoryNotFound
from bankdesk.tickets.models import Category
from bankdesk.tickets.selectors import category_get


def category_by_id(category_id: int, field: str = "category_id") -> Category:
    category = category_get(category_id=category_id)
    if category is None:
        raise CategoryNotFound(f"category {category_id} not found", field=field)
    return category


def team_by_id(team_id: int, field: str = "team_id") -> Team:
    team = team_get(team_id=team_id)
    if team is None:
        raise TeamNotFound(f"team {team_id} not found", field=field)
    return team


def branch_by_id(branch_id: int, field: str = "branch_id") -> Branch:
    branch = Branch.objects.filter(pk=branch_id).first()
    if branch is None:
        raise BranchNotFound(f"branch {branch_id} not found", field=field)
    return branch
