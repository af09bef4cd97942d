"""Writes for staff: people, teams and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from bankdesk.staff.choices import Role
from bankdesk.staff.errors import InvalidRole
from bankdesk.staff.models import ApiToken, Team, User

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
) -> User:
    """Add a member of staff. Without a password, they cannot log in until one is set."""
    if role not in Role.values:
        raise InvalidRole(f"unknown role {role!r}", field="role")
    user = User(
        username=username,
        role=role,
        display_name=display_name,
        email=email,
        is_staff=role == Role.ADMIN,
        is_superuser=role == Role.ADMIN,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    if teams:
        user.teams.set(teams)
    return user


@transaction.atomic
def team_create(*, code: str, name: str, is_complaint_team: bool = False) -> Team:
    team = Team(code=code, name=name, is_complaint_team=is_complaint_team)
    team.full_clean()
    team.save()
    return team


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str  # shown once, never stored


@transaction.atomic
def api_token_create(
    *, user: User, name: str = "", expires_at: datetime | None = None
) -> IssuedToken:
    """Issue a bearer token. The secret is returned once; only its digest is kept."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        digest=token_digest(secret),
        expires_at=expires_at,
    )
    return IssuedToken(token=token, secret=secret)


@transaction.atomic
def api_token_revoke(*, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token
