"""Writes for staff: people, teams and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from bankdesk.lib.channels import Channel
from bankdesk.lib.errors import InvalidInput, PermissionDenied
from bankdesk.lib.live import queue_changed_notify
from bankdesk.lib.text import clean_text, is_unusable
from bankdesk.security.audit import audit_record
from bankdesk.staff.choices import Presence, Role, TokenScope
from bankdesk.staff.errors import InvalidRole
from bankdesk.staff.models import ApiToken, Branch, ChannelCapacity, Skill, Team, User
from bankdesk.staff.predicates import is_admin

if TYPE_CHECKING:  # the SLA app's models import staff's; only their type is needed here
    from bankdesk.sla.models import BusinessCalendar

TOKEN_PREFIX = "bd_"  # noqa: S105 - a marker that makes tokens recognisable, not a secret


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


@transaction.atomic
def staff_create(
    *,
    username: str,
    password: str | None,
    role: str = Role.AGENT,
    display_name: str = "",
    email: str = "",
    teams: list[Team] | None = None,
    preferred_language: str = "zh-hans",
    actor: User | None = None,
) -> User:
    """Add a member of staff. Without a password, they cannot log in until one is set."""
    if role not in Role.values:
        raise InvalidRole(f"unknown role {role!r}", field="role")
    user = User(
        username=username,
        role=role,
        display_name=display_name,
        email=email,
        preferred_language=preferred_language,
        # Admins get the configuration screens, not Django's superuser bypass: a superuser would
        # pass every permission check, customers' data and cases included.
        is_staff=role == Role.ADMIN,
        is_superuser=False,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    if teams:
        user.teams.set(teams)
    if role == Role.ADMIN:
        user.groups.add(configuration_admins())
    audit_record(
        actor=actor,
        action="staff.create",
        target=user,
        fields=["username", "role", "display_name", "email", "teams"],
    )
    return user


# What administrators configure in the admin screens: people, teams, skills, the taxonomy,
# business calendars and service levels.
CONFIGURATION_MODELS = (
    ("staff", "user"),
    ("staff", "team"),
    ("staff", "skill"),
    ("staff", "branch"),
    ("staff", "channelcapacity"),
    ("tickets", "category"),
    ("tickets", "tag"),
    ("sla", "businesscalendar"),
    ("sla", "workingperiod"),
    ("sla", "calendarday"),
    ("sla", "slapolicy"),
    ("assistant", "intent"),
    ("assistant", "intentexample"),
    ("sla", "slatarget"),
    ("sla", "slaescalation"),
    ("intake", "channelendpoint"),
    ("intake", "outboxmessage"),
)


def configuration_admins() -> Group:
    """The group that carries the admin role's configuration permissions, brought up to date
    with CONFIGURATION_MODELS each time (an upgrade may add models)."""
    group, _ = Group.objects.get_or_create(name="bankdesk configuration admins")
    perms = Permission.objects.filter(
        content_type__in=[
            ContentType.objects.get_by_natural_key(app, model)
            for app, model in CONFIGURATION_MODELS
        ]
    )
    group.permissions.set(perms)
    return group


@transaction.atomic
def team_create(
    *, code: str, name: str, is_complaint_team: bool = False, actor: User | None = None
) -> Team:
    team = Team(code=code, name=name, is_complaint_team=is_complaint_team)
    team.full_clean()
    team.save()
    audit_record(actor=actor, action="team.create", target=team, fields=["code", "name"])
    return team


@transaction.atomic
def team_calendar_set(
    *, team: Team, calendar: BusinessCalendar | None, actor: User | None = None
) -> Team:
    """Put the team's service-level clocks on a business calendar (None: the default one)."""
    team = Team.objects.select_for_update().get(pk=team.pk)
    if team.calendar_id != (calendar.pk if calendar else None):
        team.calendar = calendar
        team.save(update_fields=["calendar"])
        audit_record(actor=actor, action="team.calendar", target=team, fields=["calendar"])
    return team


@transaction.atomic
def branch_create(
    *,
    code: str,
    name: str,
    calendar: BusinessCalendar | None = None,
    is_active: bool = True,
    actor: User | None = None,
) -> Branch:
    branch = Branch(code=code, name=name, calendar=calendar, is_active=is_active)
    branch.full_clean()
    branch.save()
    audit_record(
        actor=actor,
        action="branch.create",
        target=branch,
        fields=["code", "name", "calendar", "is_active"],
    )
    return branch


# PositiveSmallIntegerField's ceiling, and more cases than anyone holds at once anyway.
CAPACITY_MAX = 32_767


@transaction.atomic
def channel_capacity_set(
    *, user: User, channel: str, max_open_cases: int | None, actor: User | None = None
) -> ChannelCapacity | None:
    """Limit how many active cases `user` holds on one channel at once (e.g. three web chats);
    None lifts the limit, leaving only their overall `max_open_cases`."""
    if channel not in Channel.values:
        raise InvalidInput("unknown channel", field="channel")
    if max_open_cases is not None and not 0 <= max_open_cases <= CAPACITY_MAX:
        raise InvalidInput(
            f"max_open_cases must be between 0 and {CAPACITY_MAX}", field="max_open_cases"
        )
    if max_open_cases is None:
        deleted, _by_model = ChannelCapacity.objects.filter(user=user, channel=channel).delete()
        if deleted:
            audit_record(
                actor=actor,
                action="staff.channel_capacity",
                target=user,
                fields=["channel_capacities"],
            )
        return None
    capacity, _created = ChannelCapacity.objects.update_or_create(
        user=user, channel=channel, defaults={"max_open_cases": max_open_cases}
    )
    audit_record(
        actor=actor, action="staff.channel_capacity", target=user, fields=["channel_capacities"]
    )
    return capacity


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str  # shown once, never stored


@transaction.atomic
def api_token_create(
    *,
    user: User,
    name: str = "",
    expires_at: datetime | None = None,
    scope: str = TokenScope.WRITE,
    actor: User | None = None,
) -> IssuedToken:
    """Issue a bearer token. The secret is returned once; only its digest is kept."""
    if scope not in TokenScope.values:
        raise InvalidInput(f"scope must be one of {', '.join(TokenScope.values)}", field="scope")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        digest=token_digest(secret),
        scope=scope,
        expires_at=expires_at,
    )
    audit_record(
        actor=actor or user,
        action="token.create",
        target=token,
        fields=["user", "scope", "expires_at"],
    )
    return IssuedToken(token=token, secret=secret)


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor: User | None = None) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(actor=actor, action="token.revoke", target=token, fields=["revoked_at"])
    return token


@transaction.atomic
def staff_presence_set(*, user: User, presence: str) -> User:
    """Available, away or offline: routing gives new cases to available people only."""
    if presence not in Presence.values:
        raise InvalidInput(
            f"presence must be one of {', '.join(Presence.values)}", field="presence"
        )
    if user.presence != presence:
        User.objects.filter(pk=user.pk).update(presence=presence)
        user.presence = presence
        audit_record(actor=user, action="staff.presence", target=user, fields=["presence"])
        transaction.on_commit(queue_changed_notify, robust=True)
    return user


class _Keep:
    """A parameter left as it is."""


KEEP = _Keep()


@transaction.atomic
def staff_work_set(
    *,
    user: User,
    teams: list[Team],
    skills: list[Skill],
    max_open_cases: int,
    actor: User | None = None,
    branch: Branch | _Keep | None = KEEP,
) -> User:
    """The teams whose queues a member works, what they are skilled at, how many open cases
    they hold at most, and (when given) the branch they work at. Teams widen which cases they
    see within their role, never the role."""
    if not 0 <= max_open_cases <= CAPACITY_MAX:
        raise InvalidInput(
            f"max_open_cases must be between 0 and {CAPACITY_MAX}", field="max_open_cases"
        )
    user = User.objects.select_for_update().get(pk=user.pk)
    changed = []
    if {team.pk for team in teams} != set(user.teams.values_list("pk", flat=True)):
        user.teams.set(teams)
        changed.append("teams")
    if {skill.pk for skill in skills} != set(user.skills.values_list("pk", flat=True)):
        user.skills.set(skills)
        changed.append("skills")
    if user.max_open_cases != max_open_cases:
        user.max_open_cases = max_open_cases
        user.save(update_fields=["max_open_cases"])
        changed.append("max_open_cases")
    if not isinstance(branch, _Keep) and branch != user.branch:
        if branch is not None and not branch.is_active:
            raise InvalidInput("this branch is closed", field="branch_id")
        user.branch = branch
        user.save(update_fields=["branch"])
        changed.append("branch")
    if changed:
        audit_record(actor=actor, action="staff.work", target=user, fields=changed)
    return user


@transaction.atomic
def staff_deactivate(*, user: User, actor: User) -> User:
    """Take a member of staff out of service: they can no longer sign in, their sessions and API
    tokens stop working, and routing passes them by. The account and its history stay."""
    if actor.pk == user.pk:
        raise PermissionDenied("nobody deactivates their own account", code="staff_deactivate_own")
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_active:
        user.is_active = False
        user.presence = Presence.OFFLINE
        user.save(update_fields=["is_active", "presence"])
        audit_record(
            actor=actor, action="staff.deactivate", target=user, fields=["is_active", "presence"]
        )
    return user


MFA_RESET_REASON_MIN = 5
MFA_RESET_REASON_MAX = 500


@transaction.atomic
def staff_mfa_reset(*, user: User, actor: User, reason: str) -> int:
    """Remove a member's authenticators (a lost or replaced phone), so they set one up again at
    their next sign-in; a session verified with a removed one owes a code again at once.

    Only an administrator, never for themselves: otherwise a stolen password and session would
    be enough to swap the second factor. Returns how many authenticators were removed.
    """
    if not is_admin(actor):
        raise PermissionDenied("only an administrator may reset a second factor")
    if actor.pk == user.pk:
        raise PermissionDenied(
            "nobody resets their own second factor this way", code="mfa_reset_own"
        )
    if is_unusable(reason):
        raise InvalidInput("contains control characters", field="reason")
    reason = clean_text(reason)
    if not MFA_RESET_REASON_MIN <= len(reason) <= MFA_RESET_REASON_MAX:
        raise InvalidInput(
            f"reason must be {MFA_RESET_REASON_MIN} to {MFA_RESET_REASON_MAX} characters",
            code="mfa_reset_reason",
            field="reason",
        )
    # The person's row first, as enrolment takes it: an enrolment under way waits for this.
    User.objects.select_for_update().filter(pk=user.pk).first()
    removed, _by_model = TOTPDevice.objects.filter(user=user).delete()
    if not removed:
        raise InvalidInput(
            "this member of staff has no authenticator to reset", code="mfa_not_set_up"
        )
    audit_record(
        actor=actor, action="staff.mfa_reset", target=user, fields=["totp_device"], reason=reason
    )
    return removed
