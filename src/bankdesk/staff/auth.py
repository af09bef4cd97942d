"""Who is calling: the member of staff behind a request's token or session."""

from __future__ import annotations

from django.db.models import Model
from django.http import HttpRequest

from bankdesk.lib.errors import PermissionDenied
from bankdesk.staff.models import User


def request_staff(request: HttpRequest) -> User:
    """The authenticated member of staff; the API's auth has already refused anyone else."""
    user = getattr(request, "auth", None) or request.user
    if not isinstance(user, User):
        raise TypeError("request is not authenticated as staff")
    return user


def require_perm(user: User, perm: str, obj: Model | None = None) -> None:
    """Refuse (403) an action the user's role may not take; visibility is checked before."""
    if not user.has_perm(perm, obj):
        raise PermissionDenied("your role may not do this")
