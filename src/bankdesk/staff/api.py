"""Staff API: who am I, the teams cases can be routed to, and role changes under four eyes."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from bankdesk.lib.api import Id, RequiredText, Text, error_responses, local_iso
from bankdesk.staff.auth import request_staff, require_perm
from bankdesk.staff.choices import Presence, Role, RoleChangeStatus
from bankdesk.staff.errors import RoleChangeNotFound, StaffNotFound
from bankdesk.staff.models import RoleChangeRequest, Team
from bankdesk.staff.role_changes import (
    role_change_approve,
    role_change_reject,
    role_change_request,
    role_change_withdraw,
)
from bankdesk.staff.selectors import role_change_get, role_change_list, staff_get, team_list
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


# --- role changes: asked for by one administrator, decided by another -----------------------


class RoleChangeIn(Schema):
    user_id: Id
    role: Role
    reason: RequiredText(500)  # type: ignore[valid-type]


class RoleDecisionIn(Schema):
    note: Text(500) = ""  # type: ignore[valid-type]


class RoleRejectionIn(Schema):
    note: RequiredText(500)  # type: ignore[valid-type]


class RoleChangeOut(Schema):
    id: int
    user_id: int
    username: str
    role_before: str
    role_requested: str
    reason: str
    status: str
    requested_by: str
    requested_at: str
    decided_by: str | None
    decided_at: str | None
    decision_note: str


class RoleChangeQuery(Schema):
    status: RoleChangeStatus | None = None
    limit: int = Field(default=50, ge=1, le=200)


def _role_change_out(change: RoleChangeRequest) -> dict[str, Any]:
    return {
        "id": change.pk,
        "user_id": change.user_id,
        "username": change.user.username,
        "role_before": change.role_before,
        "role_requested": change.role_requested,
        "reason": change.reason,
        "status": change.status,
        "requested_by": change.requested_by.username,
        "requested_at": local_iso(change.requested_at),
        "decided_by": change.decided_by.username if change.decided_by else None,
        "decided_at": local_iso(change.decided_at),
        "decision_note": change.decision_note,
    }


def _role_change(change_id: int) -> RoleChangeRequest:
    change = role_change_get(change_id=change_id)
    if change is None:
        raise RoleChangeNotFound(f"role change {change_id} not found", field="change_id")
    return change


@router.get(
    "/role-changes",
    response={200: list[RoleChangeOut], **error_responses()},
    summary="Role change requests, newest first (administrators and auditors)",
)
def role_changes(request: HttpRequest, query: Query[RoleChangeQuery]) -> list[dict[str, Any]]:
    require_perm(request_staff(request), "staff.view_rolechangerequest")
    changes = role_change_list(status=query.status)[: query.limit]
    return [_role_change_out(change) for change in changes]


@router.post(
    "/role-changes",
    response={201: RoleChangeOut, **error_responses(404, 409)},
    summary="Ask for a member of staff to get another role; another administrator decides",
)
def role_change_post(request: HttpRequest, payload: RoleChangeIn) -> Status[dict[str, Any]]:
    user = request_staff(request)
    require_perm(user, "staff.add_rolechangerequest")
    person = staff_get(staff_id=payload.user_id)
    if person is None:
        raise StaffNotFound(f"member of staff {payload.user_id} not found", field="user_id")
    change = role_change_request(user=person, role=payload.role, reason=payload.reason, actor=user)
    return Status(201, _role_change_out(change))


@router.post(
    "/role-changes/{change_id}/approve",
    response={200: RoleChangeOut, **error_responses(404, 409)},
    summary="Approve a role change someone else asked for, about someone else: it applies now",
)
def role_change_approve_post(
    request: HttpRequest, change_id: Id, payload: RoleDecisionIn
) -> dict[str, Any]:
    user = request_staff(request)
    require_perm(user, "staff.decide_rolechangerequest")
    change = role_change_approve(change=_role_change(change_id), actor=user, note=payload.note)
    return _role_change_out(change)


@router.post(
    "/role-changes/{change_id}/reject",
    response={200: RoleChangeOut, **error_responses(404, 409)},
    summary="Turn down a role change someone else asked for, saying why",
)
def role_change_reject_post(
    request: HttpRequest, change_id: Id, payload: RoleRejectionIn
) -> dict[str, Any]:
    user = request_staff(request)
    require_perm(user, "staff.decide_rolechangerequest")
    change = role_change_reject(change=_role_change(change_id), actor=user, note=payload.note)
    return _role_change_out(change)


@router.post(
    "/role-changes/{change_id}/withdraw",
    response={200: RoleChangeOut, **error_responses(404, 409)},
    summary="Withdraw one's own role change request before it is decided",
)
def role_change_withdraw_post(
    request: HttpRequest, change_id: Id, payload: RoleDecisionIn
) -> dict[str, Any]:
    user = request_staff(request)
    require_perm(user, "staff.add_rolechangerequest")
    change = role_change_withdraw(change=_role_change(change_id), actor=user, note=payload.note)
    return _role_change_out(change)
