"""The indicators, each defined once: its code, name, definition (shown on the dashboard, in
the API and in the quarterly evaluation), unit, which way is better, how its value comes out of
a period's summed counts, and which records a drill-down lists for its numerator and
denominator; and how a value and a target are said."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from bankdesk.analytics.models import Direction, Target
from bankdesk.analytics.sources import DIMENSIONS
from bankdesk.lib.errors import InvalidInput

Figures = dict[str, Any]


# --- how a value comes out of the counts ---------------------------------------------------


@dataclass(frozen=True)
class Value:
    value: float | None
    numerator: int | None = None
    denominator: int | None = None


def rank_of(share: float, total: int) -> int:
    """The nearest rank of a share of `total` values: ceil(share × total), at least 1."""
    return max(1, -(-int(share * 1000) * total // 1000))


def percentile(histogram: dict[str, int], share: float) -> tuple[int | None, int]:
    """Nearest rank: the smallest value with at least `share` of the counts at or below it."""
    total = sum(histogram.values())
    if not total:
        return None, 0
    rank = rank_of(share, total)
    seen = 0
    for minutes in sorted(histogram, key=int):
        seen += histogram[minutes]
        if seen >= rank:
            return int(minutes), total
    return None, total  # not reached: the ranks add up to total


def ratio(numerator: str, denominator: str, scale: int = 100) -> Callable[[Figures], Value]:
    def compute(figures: Figures) -> Value:
        top, bottom = figures.get(numerator, 0), figures.get(denominator, 0)
        return Value(round(scale * top / bottom, 1) if bottom else None, top, bottom)

    return compute


def _percentile(histogram: str, share: float) -> Callable[[Figures], Value]:
    def compute(figures: Figures) -> Value:
        value, total = percentile(figures.get(f"h:{histogram}", {}), share)
        return Value(value, None, total)

    return compute


def _nps(figures: Figures) -> Value:
    promoters, detractors = figures.get("nps_promoters", 0), figures.get("nps_detractors", 0)
    answers = figures.get("nps_answers", 0)
    score = round(100 * (promoters - detractors) / answers, 1) if answers else None
    return Value(score, promoters - detractors, answers)


@dataclass(frozen=True)
class Drill:
    """What a drill-down lists: the records of `source` that count toward `measure`."""

    source: str
    measure: str


@dataclass(frozen=True)
class Kpi:
    code: str
    name: Promise
    definition: Promise
    unit: str  # percent, minutes, score, count, per_1000, per_10000, change
    direction: str
    compute: Callable[[Figures], Value] | None
    numerator: Drill | None = None
    denominator: Drill | None = None
    plan: bool = False  # one of the plan's own targets
    measurable: bool = True


def _time_kpis(
    code: str, histogram: str, source: str, count: str, name: Promise, definition: Promise
) -> list[Kpi]:
    return [
        Kpi(
            f"{code}_p{share}",
            name,
            definition,
            "minutes",
            Direction.LOWER,
            _percentile(histogram, share / 100),
            None,
            Drill(source, count),
        )
        for share in (50, 90)
    ]


KPIS: tuple[Kpi, ...] = (
    Kpi(
        "csat_change",
        _("CSAT change against the baseline"),
        _(
            "CSAT of the period against CSAT of the baseline quarter (the target's; else the "
            "same period a year before), as a relative change: +10 % means CSAT went from 70 % "
            "to 77 %."
        ),
        "change",
        Direction.HIGHER,
        None,
        Drill("answers", "csat_satisfied"),
        Drill("answers", "csat_scored"),
        plan=True,
    ),
    Kpi(
        "complaints_closed_24h",
        _("Complaints closed within 24 hours"),
        _(
            "Of the complaints closed in the period, those closed within 24 hours (calendar "
            "time) of receipt; a reopened complaint counts by its last closure, from first "
            "receipt."
        ),
        "percent",
        Direction.HIGHER,
        ratio("complaints_closed_24h", "complaints_closed"),
        Drill("complaints", "complaints_closed_24h"),
        Drill("complaints", "complaints_closed"),
        plan=True,
    ),
    Kpi(
        "follow_up_rate",
        _("Follow-up rate"),
        _(
            "Of the cases resolved in the period that needed a follow-up call, those whose call "
            "is done: the customer reached and gave a verdict."
        ),
        "percent",
        Direction.HIGHER,
        ratio("follow_ups_done", "follow_ups"),
        Drill("follow_ups", "follow_ups_done"),
        Drill("follow_ups", "follow_ups"),
        plan=True,
    ),
    Kpi(
        "personalised_coverage",
        _("Personalised-service coverage"),
        _(
            "Of the active customers at the period's end (a case opened in the year before "
            "it), those then under a personalised service plan or with a next-best-action "
            "accepted in that year."
        ),
        "percent",
        Direction.HIGHER,
        None,
        Drill("coverage", "covered"),
        Drill("coverage", "active"),
        plan=True,
    ),
    Kpi(
        "csat",
        _("CSAT"),
        _("Of the survey answers given in the period with a satisfaction score, those of 4 or 5."),
        "percent",
        Direction.HIGHER,
        ratio("csat_satisfied", "csat_scored"),
        Drill("answers", "csat_satisfied"),
        Drill("answers", "csat_scored"),
    ),
    Kpi(
        "nps",
        _("NPS"),
        _(
            "Promoters (9–10) less detractors (0–6), per 100 answers with a recommendation "
            "score given in the period."
        ),
        "score",
        Direction.HIGHER,
        _nps,
        None,
        Drill("answers", "nps_answers"),
    ),
    Kpi(
        "survey_response_rate",
        _("Survey response rate"),
        _("Of the survey invitations sent in the period, those answered (by any means)."),
        "percent",
        Direction.HIGHER,
        ratio("surveys_answered", "surveys_sent"),
        Drill("invitations", "surveys_answered"),
        Drill("invitations", "surveys_sent"),
    ),
    Kpi(
        "complaint_rate_cases",
        _("Complaints per 1,000 cases"),
        _("Complaints received in the period per 1,000 cases opened in the period."),
        "per_1000",
        Direction.LOWER,
        ratio("complaints", "created", 1000),
        Drill("complaints", "complaints"),
        Drill("cases", "created"),
    ),
    Kpi(
        "complaint_rate_customers",
        _("Complaints per 10,000 customers"),
        _(
            "Complaints received in the period per 10,000 customers on the register at the "
            "period's end (identified customers, not one-off contacts)."
        ),
        "per_10000",
        Direction.LOWER,
        None,
        Drill("complaints", "complaints"),
    ),
    *_time_kpis(
        "complaint_decision",
        "complaint_decision",
        "complaints",
        "complaints_decided",
        _("Time to a complaint decision"),
        _(
            "From receipt to the bank's decision, calendar time, over complaints decided in "
            "the period."
        ),
    ),
    Kpi(
        "complaint_extension_rate",
        _("Complaint extension rate"),
        _("Of the complaints decided in the period, those whose deadline was extended (approved)."),
        "percent",
        Direction.LOWER,
        ratio("complaints_extended", "complaints_decided"),
        Drill("complaints", "complaints_extended"),
        Drill("complaints", "complaints_decided"),
    ),
    Kpi(
        "complaint_reopen_rate",
        _("Complaint reopen rate"),
        _("Of the complaints closed in the period, those that had been reopened."),
        "percent",
        Direction.LOWER,
        ratio("complaints_reopened", "complaints_closed"),
        Drill("complaints", "complaints_reopened"),
        Drill("complaints", "complaints_closed"),
    ),
    *_time_kpis(
        "first_response_business",
        "first_response_business",
        "responses",
        "first_responses_business",
        _("First response, business time"),
        _(
            "From the case's creation to the first reply written by a person, in working "
            "minutes of the case's calendar, over first replies given in the period."
        ),
    ),
    *_time_kpis(
        "first_response_calendar",
        "first_response",
        "responses",
        "first_responses",
        _("First response, calendar time"),
        _(
            "From the case's creation to the first reply written by a person, in minutes, over "
            "first replies given in the period."
        ),
    ),
    *_time_kpis(
        "resolution_business",
        "resolution_business",
        "resolutions",
        "resolved_business",
        _("Resolution time, business time"),
        _(
            "From the case's creation to the resolution that stands, in working minutes of the "
            "case's calendar, over cases resolved in the period (a reopened case counts once, "
            "by its last resolution)."
        ),
    ),
    *_time_kpis(
        "resolution_calendar",
        "resolution",
        "resolutions",
        "resolved",
        _("Resolution time, calendar time"),
        _(
            "From the case's creation to the resolution that stands, in minutes, over cases "
            "resolved in the period."
        ),
    ),
    Kpi(
        "resolution_rate",
        _("Resolution rate"),
        _("Of the cases opened in the period, those resolved (and not reopened since)."),
        "percent",
        Direction.HIGHER,
        ratio("created_resolved", "created"),
        Drill("cases", "created_resolved"),
        Drill("cases", "created"),
    ),
    Kpi(
        "first_contact_resolution",
        _("First-contact resolution"),
        _(
            "Of the cases resolved in the period, those resolved on the customer's first "
            "contact: one message from the customer and never reopened."
        ),
        "percent",
        Direction.HIGHER,
        ratio("first_contact", "resolved"),
        Drill("resolutions", "first_contact"),
        Drill("resolutions", "resolved"),
    ),
    Kpi(
        "reopen_rate",
        _("Reopen rate"),
        _("Of the cases resolved in the period, those that had been reopened before."),
        "percent",
        Direction.LOWER,
        ratio("reopened", "resolved"),
        Drill("resolutions", "reopened"),
        Drill("resolutions", "resolved"),
    ),
    Kpi(
        "sla_attainment",
        _("SLA attainment"),
        _(
            "Of the service-level targets that were met or came due in the period, those met "
            "in time; each policy's targets are also counted apart."
        ),
        "percent",
        Direction.HIGHER,
        ratio("sla_met", "sla_due"),
        Drill("sla", "sla_met"),
        Drill("sla", "sla_due"),
    ),
    Kpi(
        "assistant_containment",
        _("Assistant containment"),
        _(
            "Of the dialogues begun with the assistant in the period, those it answered without "
            "handing the customer to a person."
        ),
        "percent",
        Direction.HIGHER,
        ratio("dialogues_contained", "dialogues"),
        Drill("dialogues", "dialogues_contained"),
        Drill("dialogues", "dialogues"),
    ),
    Kpi(
        "backlog",
        _("Backlog"),
        _(
            "Cases open at the period's end (or now, for a period not yet over): opened and not "
            "resolved for the last time by then."
        ),
        "count",
        Direction.LOWER,
        None,
    ),
    Kpi(
        "backlog_age_p50",
        _("Backlog age"),
        _("How long the cases open at the period's end had been open, in minutes."),
        "minutes",
        Direction.LOWER,
        None,
    ),
    Kpi(
        "backlog_age_p90",
        _("Backlog age"),
        _("How long the cases open at the period's end had been open, in minutes."),
        "minutes",
        Direction.LOWER,
        None,
    ),
)
BY_CODE = {kpi.code: kpi for kpi in KPIS}
PLAN = tuple(kpi for kpi in KPIS if kpi.plan)
# The slices a result is broken down by: those kept in rollups, and the months of the period.
GROUPS = (*DIMENSIONS, "month")


def kpi_get(code: str) -> Kpi:
    try:
        return BY_CODE[code]
    except KeyError:
        raise InvalidInput("unknown indicator", field="code") from None


def value_text(kpi: Kpi, value: float | None) -> str:
    """How a value is said: 96.2 %, 1 h 05 min, 12.5 ‰ ..."""
    if not kpi.measurable:
        return str(_("not yet measurable"))
    if value is None:
        return "—"
    if kpi.unit == "percent":
        return f"{value:.1f} %"
    if kpi.unit == "change":
        return f"{value:+.1f} %"
    if kpi.unit == "minutes":
        return duration_text(int(value))
    if kpi.unit == "count":
        return f"{int(value):,}"
    return f"{value:g}"


def duration_text(minutes: int) -> str:
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return str(_("%(d)d d %(h)d h") % {"d": days, "h": hours})
    if hours:
        return str(_("%(h)d h %(m)02d min") % {"h": hours, "m": mins})
    return str(_("%(m)d min") % {"m": mins})


def target_text(kpi: Kpi, target: Target | None) -> str:
    if target is None:
        return ""
    sign = "≥" if target.direction == Direction.HIGHER else "≤"
    amount = float(target.value)
    if kpi.unit == "change":
        return f"{sign} {amount:+g} %"
    if kpi.unit == "percent":
        return f"{sign} {amount:g} %"
    if kpi.unit == "minutes":
        return f"{sign} {duration_text(int(amount))}"
    return f"{sign} {amount:g}"
