"""What every console page knows: whether to draw the working shell (navigation, search,
presence), which only a member of staff who may use the console gets — not someone still
owing their second factor on the sign-in pages."""

from __future__ import annotations

from django.http import HttpRequest

from bankdesk.staff.mfa import mfa_is_satisfied


def shell(request: HttpRequest) -> dict[str, bool]:
    return {"shell": mfa_is_satisfied(getattr(request, "user", None))}
