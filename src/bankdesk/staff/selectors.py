"""Reads for staff."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import QuerySet
from django.utils import timezone

from bankdesk.staff.models import ApiToken, RoleChangeRequest, Team, User
from bankdesk.staff.services import TOKEN_PREFIX, token_digest

# Writing last_used_at on every request would turn reads into writes; once a minute is plenty.
_LAST_USED_RESOLUTION = timedelta(minutes=1)


def api_token_authenticate(raw: str) -> ApiToken | None:
    """The usable token behind a bearer secret, or None for anything forged, expired or revoked."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    token = ApiToken.objects.select_related("user").filter(digest=token_digest(raw)).first()
    if token is None or not token.is_usable or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > _LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def staff_get(*, staff_id: int) -> User | None:
    return User.objects.filter(pk=staff_id, is_active=True).first()


def team_get(*, team_id: int) -> Team | None:
    return Team.objects.filter(pk=team_id).first()


def team_list() -> list[Team]:
    return list(Team.objects.all())


def role_change_list(*, status: str | None = None) -> QuerySet[RoleChangeRequest]:
    """Role change requests, newest first, with the people named in them."""
    changes = RoleChangeRequest.objects.select_related("user", "requested_by", "decided_by")
    return changes.filter(status=status) if status else changes


def role_change_get(*, change_id: int) -> RoleChangeRequest | None:
    return role_change_list().filter(pk=change_id).first()
