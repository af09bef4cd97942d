"""The dashboard at /dashboard/: the plan's targets first (value, target, the last four quarters,
a traffic light), then the operational indicators, SLA attainment per policy and target, and a
slice table; every count opens the records behind it at /dashboard/<code>/, where the count
shown is the number it opened from. The quarterly evaluation downloads from here too."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from bankdesk.analytics.catalogue import BY_CODE, GROUPS, Value, target_text, value_text
from bankdesk.analytics.drill import drill_items
from bankdesk.analytics.evaluation import report_file
from bankdesk.analytics.kpis import Result, kpis_compute, trends
from bankdesk.analytics.models import CaseFact, RollupState
from bankdesk.analytics.periods import (
    Period,
    period_of,
    quarter_of,
    quarter_period,
    quarters_ending,
)
from bankdesk.lib.errors import InvalidInput
from bankdesk.staff.auth import request_staff
from bankdesk.staff.mfa import mfa_required
from bankdesk.staff.models import User
from bankdesk.tickets.models import Case

SLICES: dict[str, Any] = {
    "": gettext_lazy("The whole centre"),
    "channel": gettext_lazy("By channel"),
    "team": gettext_lazy("By team"),
    "agent": gettext_lazy("By agent"),
    "category": gettext_lazy("By category"),
    "branch": gettext_lazy("By branch"),
    "tier": gettext_lazy("By customer tier"),
    "month": gettext_lazy("By month"),
}
# The indicators a slice table shows, one column each.
SLICE_COLUMNS = (
    "csat",
    "follow_up_rate",
    "complaints_closed_24h",
    "first_response_business_p50",
    "resolution_business_p50",
    "resolution_rate",
    "first_contact_resolution",
    "sla_attainment",
)
STATUS_WORDS = {
    "met": gettext_lazy("On target"),
    "near": gettext_lazy("Close to target"),
    "missed": gettext_lazy("Off target"),
    "unmeasurable": gettext_lazy("Not yet measurable"),
    "none": gettext_lazy("No target"),
}
DRILL_SHOWN = 100


def _viewer(request: HttpRequest) -> User:
    user = request_staff(request)
    if not user.has_perm("analytics.view_dashboard"):
        raise PermissionDenied
    return user


def _period(request: HttpRequest) -> tuple[Period, str]:
    """The quarter asked for (this one by default), or a span of days."""
    quarter = request.GET.get("quarter", "")
    first, last = request.GET.get("from", ""), request.GET.get("to", "")
    if first or last:
        try:
            first_day, last_day = date.fromisoformat(first), date.fromisoformat(last)
        except ValueError:
            raise InvalidInput("dates are written like 2026-07-01", field="from") from None
        return period_of(first_day, last_day), ""
    quarter = quarter or quarter_of(timezone.localdate())
    return quarter_period(quarter), quarter.upper()


def _period_query(period: Period, quarter: str) -> dict[str, str]:
    if quarter:
        return {"quarter": quarter}
    return {"from": period.first.isoformat(), "to": period.last.isoformat()}


@dataclass
class Bar:
    label: str
    value: float | None
    text: str
    x: int
    y: int
    height: int
    current: bool


def trend_bars(kpi_code: str, points: list[tuple[str, float | None]], current: str) -> list[Bar]:
    """Four quarters as bars of an SVG 200 × 64, zero at the bottom (or the middle for a change,
    which may be negative)."""
    kpi = BY_CODE[kpi_code]
    values = [abs(value) for _label, value in points if value is not None]
    top = max(values, default=0) or 1
    signed = kpi.unit == "change"
    base = 32 if signed else 56
    room = 28 if signed else 52
    bars = []
    for index, (label, value) in enumerate(points):
        height = 0 if value is None else max(1, round(room * abs(value) / top))
        y = base - height if value is None or value >= 0 or not signed else base
        bars.append(
            Bar(label, value, value_text(kpi, value), 10 + index * 48, y, height, label == current)
        )
    return bars


def _card(result: Result, query: dict[str, str], bars: list[Bar]) -> dict[str, Any]:
    kpi = result.kpi
    return {
        "result": result,
        "value_text": value_text(kpi, result.value.value),
        "target_text": target_text(kpi, result.target),
        "status_word": gettext("No figure yet")
        if result.status == "none" and result.target is not None
        else STATUS_WORDS[result.status],
        "bars": bars,
        "numerator_link": _drill_link(kpi.code, query, "numerator") if kpi.numerator else "",
        "denominator_link": _drill_link(kpi.code, query, "denominator") if kpi.denominator else "",
    }


def _drill_link(code: str, query: dict[str, str], part: str, **extra: str) -> str:
    return f"/dashboard/{code}/?" + urlencode({**query, "part": part, **extra})


@require_GET
@mfa_required
def dashboard(request: HttpRequest) -> HttpResponse:
    _viewer(request)
    group_by = request.GET.get("group_by", "")
    group_by = group_by if group_by in GROUPS else ""
    try:
        period, quarter = _period(request)
        results = kpis_compute(period, group_by=group_by or None)
    except InvalidInput as error:
        return render(
            request, "analytics/dashboard.html", {"error": error.message, **_choices()}, status=400
        )
    query = _period_query(period, quarter)
    trend_quarter = quarter or quarter_of(period.last)
    labels = quarters_ending(trend_quarter, 4)
    points = trends([r.kpi.code for r in results if r.kpi.plan and r.kpi.measurable], labels)
    plan = [
        _card(r, query, trend_bars(r.kpi.code, points.get(r.kpi.code, []), trend_quarter))
        for r in results
        if r.kpi.plan
    ]
    operations = [_card(r, query, []) for r in results if not r.kpi.plan]
    by_code = {r.kpi.code: r for r in results}
    sla = by_code["sla_attainment"]
    sla_parts = [
        {
            "line": line,
            "text": value_text(sla.kpi, line.value.value),
            "numerator_link": _drill_link(sla.kpi.code, query, "numerator", target=line.key),
            "denominator_link": _drill_link(sla.kpi.code, query, "denominator", target=line.key),
        }
        for line in sla.parts
    ]
    slice_table = _slice_table(by_code, group_by, query) if group_by else None
    return render(
        request,
        "analytics/dashboard.html",
        {
            "period": period,
            "quarter": quarter,
            "group_by": group_by,
            "plan": plan,
            "operations": operations,
            "sla_parts": sla_parts,
            "slice_table": slice_table,
            "refreshed_at": _refreshed_at(),
            "report_quarter": trend_quarter,
            **_choices(),
        },
    )


def _choices() -> dict[str, Any]:
    today = timezone.localdate()
    return {
        "quarters": quarters_ending(quarter_of(today), 8)[::-1],
        "slices": list(SLICES.items()),
    }


def _refreshed_at() -> Any:
    state = RollupState.objects.order_by("pk").first()
    return state.refreshed_at if state else None


def _slice_table(
    by_code: dict[str, Result], group_by: str, query: dict[str, str]
) -> dict[str, Any]:
    columns = [by_code[code] for code in SLICE_COLUMNS]
    keys: dict[str, str] = {}
    for result in columns:
        for line in result.rows:
            keys.setdefault(line.key, line.label)
    rows = []
    for key, label in sorted(keys.items(), key=lambda item: item[1]):
        cells = []
        for result in columns:
            found = next((line for line in result.rows if line.key == key), None)
            value = found.value if found else None
            kpi = result.kpi
            cells.append(
                {
                    "text": value_text(kpi, value.value if value else None),
                    "count": _count_text(value),
                    "link": _drill_link(kpi.code, query, "denominator", group_by=group_by, key=key),
                }
            )
        if any(cell["count"] for cell in cells):
            rows.append({"label": label, "cells": cells})
    return {"columns": columns, "rows": rows}


def _count_text(value: Value | None) -> str:
    """The records a slice's figure measured: "1 / 2" for a rate, "2" for a time; empty when
    it measured none."""
    if value is None or not value.denominator:
        return ""
    if value.numerator is None:
        return str(value.denominator)
    return f"{value.numerator} / {value.denominator}"


@require_GET
@mfa_required
def drill(request: HttpRequest, code: str) -> HttpResponse:
    _viewer(request)
    kpi = BY_CODE.get(code)
    if kpi is None:
        raise Http404
    part = request.GET.get("part", "denominator")
    group_by = request.GET.get("group_by") or None
    key = request.GET.get("key") or None
    target = request.GET.get("target") or None
    try:
        period, quarter = _period(request)
        items = drill_items(code, period, part=part, dimension=group_by, key=key, target=target)
    except InvalidInput as error:
        return render(request, "analytics/drill.html", {"error": error.message}, status=400)
    try:
        page = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        page = 1
    shown = items[(page - 1) * DRILL_SHOWN : page * DRILL_SHOWN]
    ids = [item.case_id for item in shown if item.case_id]
    numbers = dict(Case.objects.filter(pk__in=ids).values_list("pk", "number"))
    facts = CaseFact.objects.in_bulk(ids)
    query = {k: v for k, v in request.GET.items() if k != "page"}
    rows = [
        {
            "item": item,
            "number": numbers.get(item.case_id) if item.case_id else None,
            "fact": facts.get(item.case_id) if item.case_id else None,
        }
        for item in shown
    ]
    pages = max(1, -(-len(items) // DRILL_SHOWN))
    return render(
        request,
        "analytics/drill.html",
        {
            "kpi": kpi,
            "part": part,
            "part_word": _("counted in the numerator")
            if part == "numerator"
            else _("counted in the denominator"),
            "period": period,
            "quarter": quarter,
            "count": len(items),
            "rows": rows,
            "page": page,
            "pages": pages,
            "previous": urlencode({**query, "page": page - 1}) if page > 1 else "",
            "next": urlencode({**query, "page": page + 1}) if page < pages else "",
            "back": "/dashboard/?" + urlencode(_period_query(period, quarter)),
            "slice": (SLICES.get(group_by or "", ""), key) if group_by else None,
        },
    )


@require_GET
@mfa_required
def report(request: HttpRequest, quarter: str, kind: str) -> FileResponse:
    """The quarterly evaluation of `quarter`, as PDF or XLSX, in zh-hans or en."""
    _viewer(request)
    if kind not in {"pdf", "xlsx"}:
        raise Http404
    language = request.GET.get("language", "zh-hans")
    if language not in {"zh-hans", "en"}:
        raise Http404
    try:
        quarter_period(quarter)
    except InvalidInput:
        raise Http404 from None
    path = report_file(quarter.upper(), kind, language)
    return FileResponse(
        path.open("rb"),
        as_attachment=True,
        filename=f"bankdesk-{quarter.upper()}-{language}.{kind}",
    )
