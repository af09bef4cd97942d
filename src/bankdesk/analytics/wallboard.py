"""The wallboard at /wallboard/: the service centre's figures of the moment on a wall screen,
read from across the room — queue depth, what nobody holds, the longest wait for a first reply,
live chats waiting, SLA at risk and breached, and the people available, busy and away.

For the whole centre (every team the viewer may see) or one team (`?team=<id>`). The figures are
the supervisor floor's (console.floor), summed over the teams shown; the page reads them again
from /wallboard/data/ every few seconds.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied
from django.db.models import Min
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from bankdesk.console.floor import floor_people, floor_team_rows, floor_teams
from bankdesk.staff.auth import request_staff
from bankdesk.staff.choices import Presence
from bankdesk.staff.mfa import mfa_required
from bankdesk.staff.models import Team, User
from bankdesk.tickets.access import case_scope_branches, cases_visible_to
from bankdesk.tickets.choices import ACTIVE_STATUSES, CaseStatus

PERMISSION = "analytics.view_wallboard"
REFRESH_SECONDS = 5

# When a tile turns amber or red. The wall's own reading of the figures, not an SLA target:
# those are the SLA policies', and a breached clock is red however few there are.
WAIT_AMBER = timedelta(minutes=30)
WAIT_RED = timedelta(hours=2)
LIVE_WAITING_RED = 5  # customers on a live channel waiting for a person; one is amber

CALM, AMBER, RED = "calm", "amber", "red"


@dataclass(frozen=True)
class WallFigures:
    """What the wall shows, for the teams it shows."""

    depth: int  # active cases
    unassigned: int
    longest_wait_seconds: int | None  # the oldest case still owed a first reply; None: none is
    live_waiting: int
    at_risk: int
    breached: int
    available: int  # present, with room for another case: routing can give them work
    busy: int  # present, at their capacity
    away: int


@dataclass(frozen=True)
class Tile:
    text: str
    state: str  # CALM, AMBER or RED


def _visible_teams(user: User) -> list[Team]:
    """The teams whose whole queue the user may see: every team for whoever sees every case (an
    auditor), else their own — the floor's teams. Another team's figures would count only the
    few of its cases the user happens to hold, which reads as a quiet queue."""
    if case_scope_branches(user) is None:
        return list(Team.objects.order_by("name"))
    return floor_teams(user)


def _scope_name(user: User, teams: list[Team]) -> str:
    """What the wall is about: the centre only when it shows every team."""
    if len(teams) == 1:
        return teams[0].name
    if case_scope_branches(user) is None:
        return gettext("Customer service centre")
    return " · ".join(team.name for team in teams)


def _longest_wait(user: User, teams: list[Team], now: datetime) -> int | None:
    # Waiting on the customer is not the customer waiting on the bank.
    oldest = (
        cases_visible_to(user)
        .filter(team__in=teams, first_response_at__isnull=True)
        .filter(status__in=sorted(ACTIVE_STATUSES - {CaseStatus.PENDING_CUSTOMER}))
        .order_by()
        .aggregate(oldest=Min("created_at"))["oldest"]
    )
    return max(int((now - oldest).total_seconds()), 0) if oldest else None


def wall_figures(user: User, teams: list[Team]) -> WallFigures:
    """The figures of `teams` as `user` may see them: the floor's rows, added up."""
    rows = floor_team_rows(user, teams)
    people = floor_people(teams)
    available = [p for p in people if p["user"].presence == Presence.AVAILABLE]
    busy = sum(1 for p in available if p["load"] >= p["capacity"])
    return WallFigures(
        depth=sum(row["depth"] for row in rows),
        unassigned=sum(row["unassigned"] for row in rows),
        longest_wait_seconds=_longest_wait(user, teams, timezone.now()),
        live_waiting=sum(row["live_waiting"] for row in rows),
        at_risk=sum(row["at_risk"] for row in rows),
        breached=sum(row["breached"] for row in rows),
        available=len(available) - busy,
        busy=busy,
        away=sum(1 for p in people if p["user"].presence == Presence.AWAY),
    )


def _hours_minutes(seconds: int | None) -> str:
    if seconds is None:
        return "—"
    hours, minutes = divmod(seconds // 60, 60)
    return f"{hours}:{minutes:02d}"


def _colour(value: float, *, amber_over: float, red_over: float) -> str:
    return RED if value > red_over else AMBER if value > amber_over else CALM


def wall_tiles(figures: WallFigures) -> dict[str, Tile]:
    """Each figure as the wall shows it, with its colour."""
    wait_state = _colour(
        figures.longest_wait_seconds or 0,
        amber_over=WAIT_AMBER.total_seconds(),
        red_over=WAIT_RED.total_seconds(),
    )
    live_state = _colour(figures.live_waiting, amber_over=0, red_over=LIVE_WAITING_RED - 1)
    # Work waiting and nobody free to take it.
    nobody_free = figures.available == 0 and (figures.unassigned or figures.live_waiting)
    return {
        "depth": Tile(str(figures.depth), CALM),
        "unassigned": Tile(str(figures.unassigned), CALM),
        "longest_wait": Tile(_hours_minutes(figures.longest_wait_seconds), wait_state),
        "live_waiting": Tile(str(figures.live_waiting), live_state),
        "at_risk": Tile(str(figures.at_risk), AMBER if figures.at_risk else CALM),
        "breached": Tile(str(figures.breached), RED if figures.breached else CALM),
        "available": Tile(str(figures.available), RED if nobody_free else CALM),
        "busy": Tile(str(figures.busy), CALM),
        "away": Tile(str(figures.away), CALM),
    }


@dataclass(frozen=True)
class Wall:
    """One reading of the wall: what it is about and its figures at `generated_at`."""

    team: Team | None  # the one team asked for; None: every team the viewer may see
    teams: list[Team]
    scope: str  # the wall's heading
    figures: WallFigures
    tiles: dict[str, Tile]
    generated_at: datetime  # in the bank's time zone

    @property
    def updated(self) -> str:
        return self.generated_at.strftime("%H:%M:%S")

    @property
    def generated_at_iso(self) -> str:
        return self.generated_at.isoformat(timespec="milliseconds")


def _wall(request: HttpRequest) -> Wall:
    """Who may look, at what: 403 without the permission, 404 for a team they may not see."""
    user = request_staff(request)
    if not user.has_perm(PERMISSION):
        raise PermissionDenied
    teams = _visible_teams(user)
    team: Team | None = None
    if "team" in request.GET:
        team = next((t for t in teams if str(t.pk) == request.GET["team"]), None)
        if team is None:
            raise Http404
        teams = [team]
    generated_at = timezone.localtime()
    figures = wall_figures(user, teams)
    return Wall(
        team=team,
        teams=teams,
        scope=_scope_name(user, teams),
        figures=figures,
        tiles=wall_tiles(figures),
        generated_at=generated_at,
    )


@require_GET
@mfa_required
@never_cache
def wallboard(request: HttpRequest) -> HttpResponse:
    wall = _wall(request)
    context = {
        "wall": wall,
        # Placed inside the translated sentence; wallboard.js puts the time of the last answer.
        "updated_marker": format_html('<span data-field="last-update">{}</span>', wall.updated),
        "refresh_seconds": REFRESH_SECONDS,
    }
    return render(request, "analytics/wallboard.html", context)


@require_GET
@mfa_required
@never_cache
def wallboard_data(request: HttpRequest) -> HttpResponse:
    wall = _wall(request)
    return JsonResponse(
        {
            "generated_at": wall.generated_at_iso,
            "updated": wall.updated,
            "team": {"id": wall.team.pk, "name": wall.team.name} if wall.team else None,
            "scope": wall.scope,
            "figures": asdict(wall.figures),
            "tiles": {key: asdict(tile) for key, tile in wall.tiles.items()},
        }
    )
