"""The console shell's pieces drawn on every page: the queue navigation and the presence switch."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.translation import gettext_lazy, pgettext_lazy

from bankdesk.console.floor import FLOOR_ROLES
from bankdesk.console.queue import queue_views, saved_views, view_link
from bankdesk.lib.chinese import in_reader_script
from bankdesk.lib.languages import active_language
from bankdesk.staff.choices import Presence
from bankdesk.tickets.access import reads_cases

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
        "reads_cases": reads_cases(user),
        "customers": user.has_perm("customers.view_customer"),
        "complaints": user.has_perm("complaints.view_complaint"),
        "followups": user.has_perm("feedback.view_followup"),
        "indicators": user.has_perm("feedback.view_indicators"),
        "dashboard": user.has_perm("analytics.view_dashboard"),
        "wallboard": user.has_perm("analytics.view_wallboard"),
        "personal": user.has_perm("personalization.view_personalization"),
        "events": user.has_perm("personalization.run_events"),
        "views": views,
        "saved": saved,
        "here": here,
        "floor": getattr(user, "role", "") in FLOOR_ROLES,
        "audit": user.has_perm("security.view_auditentry"),
        "manage": _management_links(user),
    }


# The management screens, each shown to whoever may read it (the screens check again).
_MANAGEMENT = [
    ("console:manage_knowledge", gettext_lazy("Knowledge base"), "knowledge.view_article"),
    ("console:manage_routing", gettext_lazy("Routing rules"), "tickets.view_routingrule"),
    ("console:manage_sla", gettext_lazy("SLA policies"), "sla.view_slapolicy"),
    (
        "console:manage_followup_rules",
        gettext_lazy("Follow-up rules"),
        "feedback.view_followuprule",
    ),
    ("analytics:targets", pgettext_lazy("indicator", "Targets"), "analytics.view_target"),
    ("console:manage_calendars", gettext_lazy("Business calendars"), "sla.view_slapolicy"),
    ("console:manage_staff", gettext_lazy("Staff"), "staff.view_user"),
    ("console:manage_teams", gettext_lazy("Teams"), "staff.view_team"),
    ("console:manage_channels", gettext_lazy("Channel endpoints"), "intake.view_channelendpoint"),
]


def _management_links(user: Any) -> list[dict[str, Any]]:
    return [
        {"link": reverse(name), "label": label}
        for name, label, perm in _MANAGEMENT
        if user.has_perm(perm)
    ]


@register.filter
def reader_script(text: str) -> str:
    """A case subject or knowledge title in the reader's Chinese script (繁體 for zh-hant)."""
    return in_reader_script(str(text), active_language())


@register.inclusion_tag("console/presence.html", takes_context=True)
def presence_form(context: template.Context) -> dict[str, Any]:
    request = context["request"]
    return {
        "presence": request.user.presence,
        "choices": Presence.choices,
        "here": request.get_full_path(),
        "csrf_token": context.get("csrf_token"),
    }
