"""Staff API: who am I, and the teams cases can be routed to."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from bankdesk.lib.api import error_responses
from bankdesk.staff.auth import request_staff
from bankdesk.staff.choices import Presence
from bankdesk.staff.models import Team
from bankdesk.staff.selectors import team_list
from bankdesk.staff.services import staff_presence_set

router = Router(tags=["staff"])


class TeamOut(Schema):
    id: int
    code: str
    name: str
    is_complaint_team: bool


class MeOut(Schema):
    id: int
    username: str
    display_name: str
    role: str
    teams: list[TeamOut]


def _team_out(team: Team) -> dict[str, object]:
    return {
        "id": team.pk,
        "code": team.code,
        "name": team.name,
        "is_complaint_team": team.is_complaint_team,
    }


@router.get(
    "/me", response={200: MeOut, **error_responses()}, summary="The calling member of staff"
)
def me(request: HttpRequest) -> dict[str, object]:
    user = request_staff(request)
    return {
        "id": user.pk,
        "username": user.username,
        "display_name": user.display_name or user.username,
        "role": user.role,
        "teams": [_team_out(team) for team in user.teams.all()],
    }


class PresenceIn(Schema):
    presence: Presence


class PresenceOut(Schema):
    presence: str


@router.put(
    "/me/presence",
    response={200: PresenceOut, **error_responses()},
    summary="Set the caller's presence: only available people receive routed cases",
)
def presence_set(request: HttpRequest, payload: PresenceIn) -> dict[str, object]:
    user = staff_presence_set(user=request_staff(request), presence=payload.presence)
    return {"presence": user.presence}


@router.get("/teams", response={200: list[TeamOut], **error_responses()}, summary="All teams")
def teams(request: HttpRequest) -> list[dict[str, object]]:
    return [_team_out(team) for team in team_list()]
