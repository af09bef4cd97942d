"""Complaint hotspots in the console, /complaints/hotspots/: where complaints gather in a
period against the period before, the fastest rising, what customers wrote, and the root
causes found on hotspots with their rectification and recurrence.

Every count links to the complaint register filtered to exactly the complaints it counts
(`?dimension=…&key=…&from=…&to=…`), read through the same selector, so the two agree.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from bankdesk.complaints.choices import HotspotDimension, RectificationStatus
from bankdesk.complaints.hotspots import (
    LEAF,
    TOP,
    Group,
    Period,
    hotspot_complaints,
    hotspot_names,
    hotspots,
)
from bankdesk.complaints.models import Complaint, Rectification, RootCause
from bankdesk.complaints.rectification import (
    CHANGE,
    MOVES,
    VIEW,
    rectification_add,
    rectification_move,
    root_cause_create,
    root_cause_list,
    root_cause_recurrence,
)
from bankdesk.console.words import error_text
from bankdesk.lib.errors import BankdeskError, InvalidInput
from bankdesk.staff.auth import request_staff
from bankdesk.staff.mfa import mfa_required
from bankdesk.staff.models import User
from bankdesk.tickets.access import cases_visible_to

DEFAULT_DAYS = 90
TOP_SHOWN = 8
ROOT_CAUSES_SHOWN = 30


def _day(raw: str, field: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise InvalidInput("a date is written 2024-04-01", field=field) from exc


def period_from_query(data: QueryDict) -> Period:
    """The period a page or an export was asked for: `from` (first day) and `to` (the day after
    the last), in the bank's time zone; by default the last 90 days up to today."""
    today = timezone.localdate()
    raw_to, raw_from = data.get("to", ""), data.get("from", "")
    end = _day(raw_to, "to") if raw_to else today + timedelta(days=1)
    first = _day(raw_from, "from") if raw_from else end - timedelta(days=DEFAULT_DAYS)
    return Period.of_dates(first, end)


def complaints_visible_to(user: User) -> QuerySet[Complaint]:
    """The complaints of the cases the reader may see: what the register lists."""
    return Complaint.objects.filter(case__in=cases_visible_to(user))


def register_link(dimension: str, key: str, period: Period) -> str:
    """The complaint register filtered to exactly one group's complaints in `period`."""
    query = {
        "dimension": dimension,
        "key": key,
        "from": period.first_day.isoformat(),
        "to": period.end_day.isoformat(),
    }
    return f"{reverse('console:complaints')}?{urlencode(query)}"


def _row(group: Group, period: Period) -> dict[str, Any]:
    hotspot = f"{group.dimension}:{group.key}"
    here = {"from": period.first_day.isoformat(), "to": period.end_day.isoformat()}
    return {
        "group": group,
        "hotspot": hotspot,
        "dimension_title": HotspotDimension(group.dimension).label,
        "link": register_link(group.dimension, group.key, period),
        "previous_link": register_link(group.dimension, group.key, period.previous),
        "cause_link": f"{reverse('console:complaint_hotspots')}?"
        + urlencode({**here, "hotspot": hotspot})
        + "#new-root-cause",
    }


def _viewer(request: HttpRequest) -> User:
    user = request_staff(request)
    if not user.has_perm("complaints.view_complaint"):
        raise PermissionDenied
    return user


def _page(
    request: HttpRequest,
    user: User,
    period: Period,
    *,
    typed: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    within = complaints_visible_to(user)
    found = hotspots(period=period, within=within, top=TOP_SHOWN)
    titles = dict(HotspotDimension.choices)
    tables = [
        {
            "dimension": table.dimension,
            "title": titles[table.dimension],
            "level": table.level,
            "rows": [_row(g, period) for g in table.groups],
        }
        for table in found.tables
    ]
    causes: list[dict[str, Any]] = []
    if user.has_perm(VIEW):
        for cause in root_cause_list()[:ROOT_CAUSES_SHOWN]:
            recurrence = root_cause_recurrence(cause, within=within)
            causes.append(
                {
                    "cause": cause,
                    "dimension": titles.get(cause.dimension, cause.dimension),
                    "recurrence": recurrence.count() if cause.rectified_at else None,
                    "recurrence_link": f"{reverse('console:complaints')}?root_cause={cause.pk}",
                    "actions": [
                        {"action": a, "moves": sorted(MOVES[a.status])} for a in cause.actions.all()
                    ],
                }
            )
    may_change = user.has_perm(CHANGE)
    rising = [_row(g, period) for g in found.rising]
    clusters = [_row(g, period) for g in found.clusters]
    choices: dict[str, dict[str, Any]] = {}
    for row in [*rising, *(r for t in tables for r in t["rows"]), *clusters]:
        choices.setdefault(row["hotspot"], row)
    return render(
        request,
        "console/complaint_hotspots.html",
        {
            "period": period,
            "from": period.first_day.isoformat(),
            "to": period.end_day.isoformat(),
            "last_day": period.end_day - timedelta(days=1),
            "previous_first": period.previous.first_day,
            "previous_last": period.previous.end_day - timedelta(days=1),
            "found": found,
            "total_link": f"{reverse('console:complaints')}?"
            + urlencode({"from": period.first_day.isoformat(), "to": period.end_day.isoformat()}),
            "product_top": [t for t in tables if t["dimension"] == "product" and t["level"] == TOP],
            "tables": [t for t in tables if t["level"] in {LEAF, ""}],
            "issue_top": [t for t in tables if t["dimension"] == "issue" and t["level"] == TOP],
            "rising": rising,
            "clusters": clusters,
            "choices": list(choices.values()),
            "chosen": (typed or {}).get("hotspot") or request.GET.get("hotspot", ""),
            "dimension_titles": titles,
            "causes": causes,
            "may_change": may_change,
            "owners": User.objects.filter(is_active=True).order_by("username")
            if may_change
            else [],
            "move_labels": dict(RectificationStatus.choices),
            "typed": typed or {},
            "today": timezone.localdate().isoformat(),
        },
        status=status,
    )


@require_GET
@mfa_required
def complaint_hotspots(request: HttpRequest) -> HttpResponse:
    """Hotspots of the period asked for (the last 90 days by default)."""
    user = _viewer(request)
    try:
        period = period_from_query(request.GET)
    except BankdeskError as exc:
        messages.error(request, error_text(exc))
        return _page(request, user, period_from_query(QueryDict()), status=400)
    return _page(request, user, period)


def _back(request: HttpRequest, anchor: str = "root-causes") -> HttpResponseRedirect:
    query = {k: request.POST[k] for k in ("from", "to") if request.POST.get(k)}
    suffix = f"?{urlencode(query)}" if query else ""
    return HttpResponseRedirect(f"{reverse('console:complaint_hotspots')}{suffix}#{anchor}")


def _refused(request: HttpRequest, user: User, exc: BankdeskError) -> HttpResponse:
    """A refused form: the page again, saying why, with what was typed kept."""
    if exc.status == 403:
        raise PermissionDenied
    messages.error(request, error_text(exc))
    try:
        period = period_from_query(request.POST)
    except BankdeskError:
        period = period_from_query(QueryDict())
    typed = {k: str(v) for k, v in request.POST.items() if k != "csrfmiddlewaretoken"}
    return _page(
        request, user, period, typed=typed, status=400 if exc.status == 422 else exc.status
    )


def _changer(request: HttpRequest) -> User:
    user = _viewer(request)
    if not user.has_perm(CHANGE):
        raise PermissionDenied
    return user


def _owner(raw: str) -> User | None:
    """The person chosen, or None when nobody was; a choice not on the list is refused."""
    owner = User.objects.filter(pk=int(raw), is_active=True).first() if raw.isdigit() else None
    if owner is None and raw:
        raise InvalidInput("choose the owner", field="owner_id")
    return owner


@require_POST
@mfa_required
def root_cause_add(request: HttpRequest) -> HttpResponse:
    """A root cause found on a hotspot of the page."""
    user = _changer(request)
    dimension, _colon, key = request.POST.get("hotspot", "").partition(":")
    try:
        if not key:
            raise InvalidInput("choose the hotspot", field="hotspot")
        root_cause_create(
            dimension=dimension,
            key=key,
            title=request.POST.get("title", ""),
            description=request.POST.get("description", ""),
            owner=_owner(request.POST.get("owner", "")),
            actor=user,
        )
    except BankdeskError as exc:
        return _refused(request, user, exc)
    messages.success(request, _("The root cause is recorded."))
    return _back(request)


@require_POST
@mfa_required
def root_cause_action_add(request: HttpRequest, root_cause_id: int) -> HttpResponse:
    """A rectification action for a root cause: what, who, by when."""
    user = _changer(request)
    root_cause = RootCause.objects.filter(pk=root_cause_id).first()
    if root_cause is None:
        raise PermissionDenied
    try:
        owner = _owner(request.POST.get("owner", ""))
        if owner is None:
            raise InvalidInput("choose who carries the action out", field="owner_id")
        rectification_add(
            root_cause=root_cause,
            action=request.POST.get("action", ""),
            owner=owner,
            due_on=_day(request.POST.get("due_on", ""), "due_on"),
            actor=user,
        )
    except BankdeskError as exc:
        return _refused(request, user, exc)
    messages.success(request, _("The rectification action is added."))
    return _back(request, f"root-cause-{root_cause.pk}")


@require_POST
@mfa_required
def rectification_move_view(request: HttpRequest, rectification_id: int) -> HttpResponse:
    """An action moved on (started, done or cancelled)."""
    user = _changer(request)
    rectification = Rectification.objects.filter(pk=rectification_id).first()
    if rectification is None:
        raise PermissionDenied
    try:
        rectification_move(
            rectification=rectification, status=request.POST.get("status", ""), actor=user
        )
    except BankdeskError as exc:
        return _refused(request, user, exc)
    messages.success(request, _("The rectification action is updated."))
    return _back(request, f"root-cause-{rectification.root_cause_id}")


def register_filter(
    data: QueryDict, records: QuerySet[Complaint], user: User
) -> tuple[QuerySet[Complaint], dict[str, Any] | None]:
    """The register narrowed as a hotspot's link asks: one group's complaints in a period
    (`dimension`, `key`, `from`, `to`), a period's (`from`, `to`), or a root cause's recurrence
    (`root_cause`). Returns the records and what to say about the filter (None: unfiltered)."""
    raw = data.get("root_cause", "")
    if raw:
        cause = RootCause.objects.filter(pk=int(raw)).first() if raw.isdigit() else None
        if cause is None or not user.has_perm(VIEW):
            raise InvalidInput("no such root cause", field="root_cause")
        records = root_cause_recurrence(cause, within=records)
        return records, {"label": cause.title, "recurrence": True, "count": records.count()}
    if not (data.get("dimension") or data.get("from") or data.get("to")):
        return records, None
    period = period_from_query(data)
    described: dict[str, Any] = {
        "first": period.first_day,
        "last": period.end_day - timedelta(days=1),
    }
    if data.get("dimension"):
        dimension, key = data.get("dimension", ""), data.get("key", "")
        described["dimension"] = (
            HotspotDimension(dimension).label
            if dimension in (HotspotDimension.values)
            else dimension
        )
        name, name_en = hotspot_names(dimension, key)
        language = get_language() or "zh-hans"
        described["label"] = name_en if language.startswith("en") else name
        records = hotspot_complaints(dimension=dimension, key=key, period=period, within=records)
    else:
        records = period.within(records)
    described["count"] = records.count()
    return records, described
