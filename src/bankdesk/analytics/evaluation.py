"""The quarterly evaluation: the plan's targets for one quarter, with the last four quarters'
trend, per-team and per-agent scorecards, complaint hotspots, and what improved and what did
not against the quarter before — assembled as a `Report` in one language, then written as PDF
and XLSX by `report_pdf` and `report_xlsx`. Every figure comes from `kpis_compute`, the same
numbers the dashboard and the API show."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db.models import Count, Max
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from bankdesk.analytics.catalogue import BY_CODE, KPIS, target_text, value_text
from bankdesk.analytics.kpis import Result, kpis_compute, trends
from bankdesk.analytics.models import Direction, Rollup, Target
from bankdesk.analytics.periods import Period, quarter_period, quarters_ending
from bankdesk.analytics.report_model import Cell, Report, Section, Table, TargetLine, TrendPoint
from bankdesk.analytics.report_pdf import report_pdf
from bankdesk.analytics.report_xlsx import report_xlsx
from bankdesk.complaints.choices import HotspotDimension
from bankdesk.complaints.hotspots import Period as HotspotPeriod
from bankdesk.complaints.hotspots import hotspots

LANGUAGES = ("zh-hans", "en")
# The columns of a scorecard: one indicator each.
SCORECARD = (
    "resolution_rate",
    "first_contact_resolution",
    "first_response_business_p50",
    "resolution_business_p50",
    "sla_attainment",
    "csat",
    "follow_up_rate",
    "complaints_closed_24h",
)
# What a scorecard's narrow columns are headed (the definitions sheet says each in full).
SCORECARD_HEADINGS = {
    "resolution_rate": gettext_lazy("Resolved %"),
    "first_contact_resolution": gettext_lazy("First contact %"),
    "first_response_business_p50": gettext_lazy("First reply, min"),
    "resolution_business_p50": gettext_lazy("Resolution, min"),
    "sla_attainment": gettext_lazy("SLA %"),
    "csat": gettext_lazy("CSAT %"),
    "follow_up_rate": gettext_lazy("Follow-up %"),
    "complaints_closed_24h": gettext_lazy("Complaints 24 h %"),
}
TREND_CODES = (
    "csat",
    "nps",
    "complaints_closed_24h",
    "follow_up_rate",
    "first_response_business_p50",
    "resolution_business_p50",
    "resolution_rate",
    "first_contact_resolution",
    "sla_attainment",
    "complaint_rate_cases",
    "assistant_containment",
)
# A change smaller than this (in the indicator's own unit) is no change.
STEADY = 0.05

Progress = Callable[[str], None]


def _labels() -> dict[str, str]:
    return {
        "period": _("Period"),
        "generated": _("Generated"),
        "targets": _("The plan's targets"),
        "operations": _("Operations"),
        "indicator": _("Indicator"),
        "code": _("Code"),
        "value": _("Value"),
        "target": pgettext("indicator", "Target"),
        "status": _("Status"),
        "numerator": _("Numerator"),
        "denominator": _("Denominator"),
        "trend": _("The last four quarters"),
        "definition": _("Definition"),
        "met": _("On target"),
        "near": _("Close to target"),
        "missed": _("Off target"),
        "unmeasurable": _("Not yet measurable"),
        "none": "—",
        "page": _("Page"),
        "summary": _("Summary"),
    }


def _line(result: Result, points: list[tuple[str, float | None]]) -> TargetLine:
    kpi, value = result.kpi, result.value
    return TargetLine(
        code=kpi.code,
        name=str(kpi.name) + _suffix(kpi.code),
        value=value.value,
        value_text=value_text(kpi, value.value),
        target_text=target_text(kpi, result.target),
        status=result.status,  # type: ignore[arg-type]
        numerator=value.numerator,
        denominator=value.denominator,
        definition=str(kpi.definition),
        trend=tuple(TrendPoint(label, point) for label, point in points),
    )


def _suffix(code: str) -> str:
    if code.endswith("_p50"):
        return " (" + _("median") + ")"
    if code.endswith("_p90"):
        return " (p90)"
    return ""


def _scorecard(period: Period, group_by: str, key: str, title: str) -> Table:
    results = {r.kpi.code: r for r in kpis_compute(period, group_by=group_by, codes=SCORECARD)}
    names: dict[str, str] = {}
    for result in results.values():
        for line in result.rows:
            names.setdefault(line.key, line.label)
    rows: list[tuple[Cell, ...]] = []
    for slice_key, label in sorted(names.items(), key=lambda item: item[1]):
        cells: list[Cell] = [label]
        for code in SCORECARD:
            found = next((line for line in results[code].rows if line.key == slice_key), None)
            cells.append(None if found is None else found.value.value)
        if all(cell is None for cell in cells[1:]):
            continue  # a slice with nothing of the scorecard's (the assistant's dialogues)
        resolved = results["first_contact_resolution"].rows
        count = next((line.value.denominator for line in resolved if line.key == slice_key), 0)
        cells.append(count or 0)
        rows.append(tuple(cells))
    columns = (title, *(str(SCORECARD_HEADINGS[code]) for code in SCORECARD), _("Resolved"))
    note = _("Times are medians in business minutes; the definitions sheet says each in full.")
    return Table(key=key, title=title, columns=columns, rows=tuple(rows), note=note)


def _hotspot_tables(period: Period) -> tuple[list[str], list[Table]]:
    found = hotspots(
        period=HotspotPeriod.of_dates(period.first, period.last + timedelta(days=1)), top=10
    )
    tables: list[Table] = []
    for table in found.tables:
        if not table.groups or table.level == "top":
            continue
        rows = tuple(
            (group.label, group.count, group.previous, group.share, group.growth)
            for group in table.groups
        )
        tables.append(
            Table(
                key=f"hot_{table.dimension}"[:31],
                title=_("Complaints by %(dimension)s") % {"dimension": _dimension(table.dimension)},
                columns=(
                    _("Group"),
                    _("Complaints"),
                    _("The quarter before"),
                    _("Share (%)"),
                    _("Growth (%)"),
                ),
                rows=rows,
            )
        )
    paragraphs = [
        _("%(count)d complaints received this quarter, %(before)d the quarter before.")
        % {"count": found.total, "before": found.previous_total}
    ]
    if found.rising:
        rising = ", ".join(f"{g.label} (+{g.change})" for g in found.rising[:5])
        paragraphs.append(_("Rising fastest: %(groups)s.") % {"groups": rising})
    return paragraphs, tables


def _dimension(dimension: str) -> str:
    return (
        str(HotspotDimension(dimension).label)
        if dimension in HotspotDimension.values
        else dimension
    )


def _changes(now: list[Result], before: list[Result]) -> tuple[list[str], Table]:
    """Each indicator against the quarter before: better, worse or steady, by its direction."""
    earlier = {r.kpi.code: r for r in before}
    better: list[str] = []
    worse: list[str] = []
    rows: list[tuple[Cell, ...]] = []
    for result in now:
        kpi = result.kpi
        previous = earlier[kpi.code].value.value
        value = result.value.value
        if not kpi.measurable:
            continue
        verdict = _("no comparison")
        change: float | None = None
        if value is not None and previous is not None:
            change = round(value - previous, 1)
            if abs(change) <= STEADY:
                verdict = _("steady")
            elif (change > 0) == (kpi.direction == Direction.HIGHER):
                verdict = _("better")
                better.append(str(kpi.name) + _suffix(kpi.code))
            else:
                verdict = _("worse")
                worse.append(str(kpi.name) + _suffix(kpi.code))
        rows.append((str(kpi.name) + _suffix(kpi.code), previous, value, change, verdict))
    paragraphs = [
        _("Improved: %(list)s.") % {"list": "、".join(better) if better else _("nothing")},
        _("Did not improve: %(list)s.") % {"list": "、".join(worse) if worse else _("nothing")},
    ]
    table = Table(
        key="changes",
        title=_("Against the quarter before"),
        columns=(
            _("Indicator"),
            _("The quarter before"),
            _("This quarter"),
            pgettext("difference", "Change"),
            _("Verdict"),
        ),
        rows=tuple(rows),
    )
    return paragraphs, table


def quarter_report(quarter: str, language: str, progress: Progress | None = None) -> Report:
    """The evaluation of `quarter` (2026Q3), every text in `language`."""
    step = progress or (lambda _name: None)
    with translation.override(language):
        period = quarter_period(quarter)
        results = kpis_compute(period)
        step("indicators")
        quarters = quarters_ending(quarter, 4)
        points = trends([r.kpi.code for r in results if r.kpi.measurable], quarters)
        step("trends")
        plan = tuple(_line(r, points.get(r.kpi.code, [])) for r in results if r.kpi.plan)
        operations = tuple(_line(r, points.get(r.kpi.code, [])) for r in results if not r.kpi.plan)
        trend_table = Table(
            key="trends",
            title=_("The last four quarters"),
            columns=(_("Indicator"), *quarters),
            rows=tuple(
                (str(BY_CODE[code].name) + _suffix(code), *(value for _l, value in points[code]))
                for code in TREND_CODES
            ),
        )
        teams = _scorecard(period, "team", "teams", _("Team"))
        step("teams")
        agents = _scorecard(period, "agent", "agents", _("Agent"))
        channels = _scorecard(period, "channel", "channels", _("Channel"))
        step("agents")
        hot_paragraphs, hot_tables = _hotspot_tables(period)
        step("hotspots")
        previous = quarters_ending(quarter, 2)[0]
        change_paragraphs, change_table = _changes(results, kpis_compute(quarter_period(previous)))
        sla = next(r for r in results if r.kpi.code == "sla_attainment")
        sla_table = Table(
            key="sla",
            title=_("SLA attainment by policy and target"),
            columns=(_("Policy · target"), _("Met in time (%)"), _("Met"), _("Counted")),
            rows=tuple(
                (line.label, line.value.value, line.value.numerator, line.value.denominator)
                for line in sla.parts
            ),
        )
        definitions = Table(
            key="definitions",
            title=_("Definitions"),
            columns=(_("Code"), _("Indicator"), _("Definition")),
            rows=tuple(
                (kpi.code, str(kpi.name) + _suffix(kpi.code), str(kpi.definition)) for kpi in KPIS
            ),
        )
        return Report(
            language=language,
            title=_("Quarterly service evaluation"),
            subtitle=f"{settings.BANKDESK_BANK_NAME} · {quarter}",
            quarter=quarter,
            period_text=f"{period.first.isoformat()} – {period.last.isoformat()}",
            generated_at=timezone.localtime(),
            labels=_labels(),
            targets=plan,
            operations=operations,
            sections=(
                Section(_("Trends"), (), (trend_table,)),
                Section(
                    _("What improved and what did not"),
                    tuple(change_paragraphs),
                    (change_table,),
                ),
                Section(_("Team scorecards"), (), (teams, channels)),
                Section(_("Agent scorecards"), (), (agents,)),
                Section(_("Complaint hotspots"), tuple(hot_paragraphs), tuple(hot_tables)),
                Section(_("Service levels"), (), (sla_table,)),
                Section(_("Definitions"), (), (definitions,)),
            ),
        )


def report_write(
    quarter: str,
    out: Path,
    *,
    languages: tuple[str, ...] = LANGUAGES,
    progress: Progress | None = None,
) -> list[Path]:
    """Write the quarter's evaluation as PDF and XLSX in each language; the files written."""
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for language in languages:
        report = quarter_report(quarter, language, progress)
        stem = f"bankdesk-{quarter}-{language}"
        report_pdf(report, out / f"{stem}.pdf")
        if progress:
            progress("pdf")
        report_xlsx(report, out / f"{stem}.xlsx")
        if progress:
            progress("xlsx")
        written += [out / f"{stem}.pdf", out / f"{stem}.xlsx"]
    return written


def report_file(quarter: str, kind: str, language: str) -> Path:
    """The evaluation as a file for the dashboard's download, written again only when a rollup
    it reads has been written since (a day added up again gets new rows): a past quarter's
    file is made once, the current one at most once per refresh."""
    quarters = quarters_ending(quarter, 5)
    first = quarter_period(quarters[0]).first - timedelta(days=366)  # CSAT's baseline
    last = quarter_period(quarter).last
    read = Rollup.objects.filter(day__gte=first, day__lte=last).aggregate(
        newest=Max("id"), rows=Count("id")
    )
    targets_changed = Target.objects.aggregate(newest=Max("updated_at"))["newest"]
    stamp = f"{quarter}-{language}-{read['newest']}-{read['rows']}-{targets_changed}"
    digest = hashlib.sha256(stamp.encode()).hexdigest()[:16]
    folder = Path(settings.BANKDESK_HOME) / "reports" / digest
    path = folder / f"bankdesk-{quarter}-{language}.{kind}"
    if not path.exists():
        # Written aside, then moved in whole: a download at the same moment never reads half.
        with tempfile.TemporaryDirectory(dir=folder.parent.parent) as scratch:
            for written in report_write(quarter, Path(scratch), languages=(language,)):
                folder.mkdir(parents=True, exist_ok=True)
                os.replace(written, folder / written.name)
        # Older editions of the same report are not served again.
        for older in folder.parent.glob(f"*/bankdesk-{quarter}-{language}.*"):
            if older.parent != folder:
                older.unlink(missing_ok=True)
    return path
