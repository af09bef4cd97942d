"""Writes for staff roles: four eyes on what anyone may see and do.

A role is asked for by one administrator and approved (or rejected) by another who is neither
the one who asked nor the one it is about; each step is on the audit chain in the transaction
that takes it. Nothing else in bankdesk writes a role once an account exists: not the admin
screens, not the API. The one other way in is the installation's own first administrators
(`administrator_bootstrap`), since until there are two nobody could approve anything.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from bankdesk.lib.errors import InvalidInput
from bankdesk.lib.text import clean_text, is_unusable
from bankdesk.security.audit import audit_record
from bankdesk.staff.choices import Role, RoleChangeStatus
from bankdesk.staff.errors import InvalidRole, RoleChangeConflict, RoleChangeRefused
from bankdesk.staff.models import RoleChangeRequest, User
from bankdesk.staff.services import configuration_admins, staff_create

REASON_MAX = 500
# Two administrators are what four eyes need; below that, the command line may add one.
ADMINISTRATORS_FOR_FOUR_EYES = 2


def _text(value: str, field: str, *, required: bool) -> str:
    if is_unusable(value):
        raise InvalidInput("contains control characters", field=field)
    cleaned = clean_text(value)
    if required and not cleaned:
        raise InvalidInput(f"{field} is required", field=field)
    if len(cleaned) > REASON_MAX:
        raise InvalidInput(f"{field} is at most {REASON_MAX} characters", field=field)
    return cleaned


def _require_administrator(actor: User) -> None:
    if not (actor.is_active and actor.role == Role.ADMIN):
        raise RoleChangeRefused("only an administrator may ask for or decide a role change")


def role_change_request_check(*, user: User, role: str, actor: User) -> None:
    """Refuse, with the reason, a request that could never be made (a form checks this first)."""
    _require_administrator(actor)
    if role not in Role.values:
        raise InvalidRole(f"unknown role {role!r}", field="role")
    if user.role == role:
        raise InvalidRole("this member of staff already has that role", field="role")
    if RoleChangeRequest.objects.filter(user=user, status=RoleChangeStatus.PENDING).exists():
        raise RoleChangeConflict(
            "a role change for this member of staff is already awaiting a decision",
            code="role_change_pending",
        )


@transaction.atomic
def role_change_request(*, user: User, role: str, reason: str, actor: User) -> RoleChangeRequest:
    """Ask for `user` to be given `role`. Nothing changes until another administrator approves."""
    reason = _text(reason, "reason", required=True)
    # The person's row first, as every role step takes it, so two steps never lock in turn.
    user = User.objects.select_for_update().get(pk=user.pk)
    role_change_request_check(user=user, role=role, actor=actor)
    change = RoleChangeRequest.objects.create(
        user=user,
        role_before=user.role,
        role_requested=role,
        reason=reason,
        requested_by=actor,
    )
    audit_record(
        actor=actor,
        action="staff.role_change_request",
        target=change,
        fields=["role"],
        reason=reason,
    )
    return change


def _pending_locked(change: RoleChangeRequest) -> tuple[RoleChangeRequest, User]:
    """The request and the person it is about, both locked, the person first."""
    user = User.objects.select_for_update().get(pk=change.user_id)
    change = RoleChangeRequest.objects.select_for_update().get(pk=change.pk)
    if change.status != RoleChangeStatus.PENDING:
        raise RoleChangeConflict(
            f"this request is already {change.status}", code="role_change_decided"
        )
    return change, user


def _require_other_eyes(change: RoleChangeRequest, actor: User) -> None:
    _require_administrator(actor)
    if actor.pk == change.requested_by_id:
        raise RoleChangeRefused(
            "a role change is decided by an administrator other than the one who asked for it",
            code="role_change_own_request",
        )
    if actor.pk == change.user_id:
        raise RoleChangeRefused(
            "nobody decides a change to their own role", code="role_change_own_role"
        )


def _decide(change: RoleChangeRequest, *, status: str, actor: User, note: str) -> None:
    change.status = status
    change.decided_by = actor
    change.decided_at = timezone.now()
    change.decision_note = note
    change.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])


def _role_set(user: User, role: str) -> list[str]:
    """Give `user` the role and what goes with it; the names of what changed, for the audit."""
    was_admin = user.role == Role.ADMIN
    user.role = role
    # The admin screens are an administrator's; the database refuses anything else.
    user.is_staff = role == Role.ADMIN
    user.save(update_fields=["role", "is_staff"])
    changed = ["role"]
    if was_admin != user.is_staff:
        changed += ["is_staff", "groups"]
        if user.is_staff:
            user.groups.add(configuration_admins())
        else:
            user.groups.remove(configuration_admins())
    return changed


@transaction.atomic
def role_change_approve(
    *, change: RoleChangeRequest, actor: User, note: str = ""
) -> RoleChangeRequest:
    """Approve another administrator's request: the person gets the role now."""
    note = _text(note, "note", required=False)
    change, user = _pending_locked(change)
    _require_other_eyes(change, actor)
    if user.role != change.role_before:
        raise RoleChangeConflict(
            "the person's role has changed since this was asked; ask again",
            code="role_changed_since_request",
        )
    changed = _role_set(user, change.role_requested)
    _decide(change, status=RoleChangeStatus.APPROVED, actor=actor, note=note)
    audit_record(
        actor=actor,
        action="staff.role_change_approve",
        target=change,
        fields=["status"],
        reason=note,
    )
    audit_record(
        actor=actor, action="staff.role_change", target=user, fields=changed, reason=change.reason
    )
    return change


@transaction.atomic
def role_change_reject(*, change: RoleChangeRequest, actor: User, note: str) -> RoleChangeRequest:
    """Turn another administrator's request down, saying why; the role stays as it is."""
    note = _text(note, "note", required=True)
    change, _user = _pending_locked(change)
    _require_other_eyes(change, actor)
    _decide(change, status=RoleChangeStatus.REJECTED, actor=actor, note=note)
    audit_record(
        actor=actor,
        action="staff.role_change_reject",
        target=change,
        fields=["status"],
        reason=note,
    )
    return change


@transaction.atomic
def role_change_withdraw(
    *, change: RoleChangeRequest, actor: User, note: str = ""
) -> RoleChangeRequest:
    """Take back one's own request before anyone decides it."""
    note = _text(note, "note", required=False)
    change, _user = _pending_locked(change)
    if actor.pk != change.requested_by_id:
        raise RoleChangeRefused(
            "only the administrator who asked may withdraw a request",
            code="role_change_not_requester",
        )
    _decide(change, status=RoleChangeStatus.WITHDRAWN, actor=actor, note=note)
    audit_record(
        actor=actor,
        action="staff.role_change_withdraw",
        target=change,
        fields=["status"],
        reason=note,
    )
    return change


def administrators_active() -> int:
    return User.objects.filter(role=Role.ADMIN, is_active=True).count()


@transaction.atomic
def administrator_bootstrap(*, username: str, password: str, email: str = "") -> User:
    """Create one of an installation's first administrators, from the machine's command line.

    Four eyes need two administrators, so until there are two active ones nobody could approve
    a role: the operator creates them (`bankdesk createadmin`), on the audit chain as the
    system. From then on a new administrator is a member of staff whose role one administrator
    asks for and another approves.
    """
    if administrators_active() >= ADMINISTRATORS_FOR_FOUR_EYES:
        raise RoleChangeRefused(
            f"there are already {ADMINISTRATORS_FOR_FOUR_EYES} or more active administrators: "
            "add the person as staff in the admin screens, and have one administrator ask for "
            "the administrator role and another approve it",
            code="administrators_exist",
        )
    return staff_create(username=username, password=password, role=Role.ADMIN, email=email)
