"""Who is calling: the member of staff behind a request's token or session."""

from __future__ import annotations

from django.http import HttpRequest

from bankdesk.staff.models import User


def request_staff(request: HttpRequest) -> User:
    """The authenticated member of staff; the API's auth has already refused anyone else."""
    user = getattr(request, "auth", None) or request.user
    if not isinstance(user, User):
        raise TypeError("request is not authenticated as staff")
    return user
