"""The supervisor floor at /supervisor/: per team, the queue's depth, what nobody holds, what is
at risk or breached and how long the oldest has waited, live chats waiting; the team's people
with presence, load and capacity; and the unassigned cases, to hand out from here. The page
refreshes itself while it is open."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Exists, Min, OuterRef, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from bankdesk.console.queue import NOBODY, view_link
from bankdesk.lib.channels import Channel
from bankdesk.sla.choices import ClockStatus
from bankdesk.sla.models import SlaClock
from bankdesk.staff.auth import request_staff
from bankdesk.staff.choices import Role
from bankdesk.staff.mfa import mfa_required
from bankdesk.staff.models import Team, User
from bankdesk.tickets.access import cases_visible_to
from bankdesk.tickets.choices import ACTIVE_STATUSES
from bankdesk.tickets.selectors import active_load

FLOOR_ROLES = frozenset({Role.SUPERVISOR, Role.COMPLAINT_OFFICER})
UNASSIGNED_SHOWN = 25
LIVE_CHANNELS = (Channel.WEB_CHAT, Channel.WECHAT, Channel.ALIPAY, Channel.APP)


def floor_teams(user: User) -> list[Team]:
    return list(user.teams.order_by("name"))


def floor_team_rows(user: User, teams: list[Team]) -> list[dict[str, Any]]:
    now = timezone.now()
    active = cases_visible_to(user).filter(status__in=ACTIVE_STATUSES, team__in=teams).order_by()
    running = SlaClock.objects.filter(case=OuterRef("pk"), status=ClockStatus.RUNNING)
    figures = {
        row["team_id"]: row
        for row in active.values("team_id").annotate(
            depth=Count("id"),
            unassigned=Count("id", filter=Q(assignee__isnull=True)),
            live_waiting=Count("id", filter=Q(assignee__isnull=True, channel__in=LIVE_CHANNELS)),
            oldest=Min("created_at", filter=Q(assignee__isnull=True)),
            at_risk=Count(
                "id",
                filter=Q(Exists(running.filter(warn_at__lte=now, due_at__gt=now))),
            ),
            # A running clock is past due exactly when the earliest of them is (Case.sla_due_at).
            breached=Count("id", filter=Q(sla_due_at__lte=now)),
        )
    }
    rows = []
    for team in teams:
        row = figures.get(team.pk, {})
        oldest = row.get("oldest")
        rows.append(
            {
                "team": team,
                "depth": row.get("depth", 0),
                "unassigned": row.get("unassigned", 0),
                "live_waiting": row.get("live_waiting", 0),
                "at_risk": row.get("at_risk", 0),
                "breached": row.get("breached", 0),
                "oldest_minutes": int((now - oldest).total_seconds() // 60) if oldest else None,
                "queue_link": view_link({"team": team.pk, "status": sorted(ACTIVE_STATUSES)}),
                "unassigned_link": view_link(
                    {"team": team.pk, "assignee": NOBODY, "status": sorted(ACTIVE_STATUSES)}
                ),
            }
        )
    return rows


def floor_people(teams: list[Team]) -> list[dict[str, Any]]:
    # The load counts open cases only, on the (assignee, status) index: never the closed history.
    members = User.teams.through.objects.filter(user_id=OuterRef("pk"), team__in=teams)
    people = (
        User.objects.filter(Exists(members), is_active=True, role__in=[Role.AGENT, *FLOOR_ROLES])
        .annotate(load=active_load(OuterRef("pk")))
        .order_by("presence", "username")
    )
    return [
        {"user": person, "load": person.load, "capacity": person.max_open_cases}
        for person in people
    ]


@require_GET
@mfa_required
def floor(request: HttpRequest) -> HttpResponse:
    user = request_staff(request)
    if user.role not in FLOOR_ROLES:
        raise Http404
    teams = floor_teams(user)
    unassigned = list(
        cases_visible_to(user)
        .filter(status__in=ACTIVE_STATUSES, team__in=teams, assignee__isnull=True)
        .select_related("team", "customer")
        .prefetch_related(None)
        .order_by("created_at", "id")[:UNASSIGNED_SHOWN]
    )
    people = floor_people(teams)
    context = {
        "teams": floor_team_rows(user, teams),
        "people": people,
        "unassigned": unassigned,
        "assignable": [p["user"] for p in people],
        "back": request.get_full_path(),
    }
    template = "console/floor_body.html" if request.GET.get("part") else "console/floor.html"
    return render(request, template, context)
