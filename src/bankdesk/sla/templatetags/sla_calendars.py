"""The banner that tells administrators a calendar's published holidays are running out."""

from __future__ import annotations

from typing import Any

from django import template

from bankdesk.sla.selectors import calendar_horizon_warnings

register = template.Library()


@register.inclusion_tag("sla/calendar_horizon_banner.html", takes_context=True)
def calendar_horizon_banner(context: template.Context) -> dict[str, Any]:
    """For whoever can load a holiday notice (administrators): every calendar whose holidays
    are known for less than the warning window, or no longer. Nothing, and no query, for
    anyone else."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.has_perm("sla.change_businesscalendar"):
        return {"horizons": []}
    # The notice is loaded in the console's calendar screen; in the Django admin, in its own.
    in_admin = request is not None and request.path.startswith("/admin/")
    return {"horizons": calendar_horizon_warnings(), "in_admin": in_admin}
