"""The console shell's pieces drawn on every page: the queue navigation and the presence switch."""

from __future__ import annotations

from typing import Any

from django import template

from bankdesk.console.floor import FLOOR_ROLES
from bankdesk.console.queue import queue_views, saved_views, view_link
from bankdesk.staff.choices import Presence

register = template.Library()


@register.inclusion_tag("console/navigation.html", takes_context=True)
def queue_navigation(context: template.Context) -> dict[str, Any]:
    request = context["request"]
    here = request.get_full_path()
    views = [
        {"key": view.key, "label": view.label, "link": view_link(view.query)}
        for view in queue_views()
    ]
    for view in views:
        view["current"] = view["link"] == here
    saved = [
        {"pk": view.pk, "label": view.name, "link": f"/cases/?{view.query}"}
        for view in saved_views(request.user)
    ]
    user = request.user
    return {
        "views": views,
        "saved": saved,
        "here": here,
        "floor": getattr(user, "role", "") in FLOOR_ROLES,
        "audit": user.has_perm("security.view_auditentry"),
    }


@register.inclusion_tag("console/presence.html", takes_context=True)
def presence_form(context: template.Context) -> dict[str, Any]:
    request = context["request"]
    return {
        "presence": request.user.presence,
        "choices": Presence.choices,
        "here": request.get_full_path(),
        "csrf_token": context.get("csrf_token"),
    }
