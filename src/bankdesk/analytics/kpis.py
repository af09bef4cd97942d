"""The indicators, each defined once: its name, its definition (shown on the dashboard, in the
API and in the quarterly evaluation), how it is computed from the rollups' counts, and which
way is better. Targets are data (`Target`); an indicator without a target row has none.

Periods are whole days on the bank's clock, [first, last + 1 day). Everything but the backlog
and the complaint rate per customer comes from the rollups; those two are states, read at the
period's end from the facts and the customer register.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from bankdesk.analytics.models import CaseFact, Direction, Rollup, Target
from bankdesk.analytics.rollups import Figures, day_start, merge
from bankdesk.analytics.sources import ALL, DIMENSIONS, NONE_KEY
from bankdesk.customers.choices import Tier
from bankdesk.customers.models import Customer
from bankdesk.lib.channels import Channel
from bankdesk.lib.errors import InvalidInput
from bankdesk.sla.models import SlaTarget
from bankdesk.staff.models import Branch, Team, User
from bankdesk.tickets.models import Category

NEAR = Decimal("0.05")  # within 5 % of the target (of its size): amber, not red


@dataclass(frozen=True)
class Period:
    first: date
    last: date  # included

    @property
    def since(self) -> datetime:
        return day_start(self.first)

    @property
    def until(self) -> datetime:
        return day_start(self.last + timedelta(days=1))

    def year_before(self) -> Period:
        return Period(_shift_year(self.first), _shift_year(self.last))

    def __str__(self) -> str:
        return f"{self.first.isoformat()} – {self.last.isoformat()}"


def _shift_year(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


# Periods are asked for within these years: a baseline a year before, and a day after, must
# still be dates.
FIRST_YEAR, LAST_YEAR = 2000, 2099


def period_of(first: date, last: date) -> Period:
    """The days from `first` to `last`, both included, refused when they run backwards or
    leave the years bankdesk measures."""
    if not (FIRST_YEAR <= first.year <= LAST_YEAR and FIRST_YEAR <= last.year <= LAST_YEAR):
        raise InvalidInput(f"a period lies within {FIRST_YEAR}–{LAST_YEAR}", field="from")
    if last < first:
        raise InvalidInput("the period ends before it starts", field="to")
    return Period(first, last)


def quarter_period(text: str) -> Period:
    """The quarter written like 2026Q3: 1 July to 30 September 2026."""
    clean = text.strip().upper()
    if len(clean) != 6 or clean[4] != "Q" or not clean[:4].isdigit() or clean[5] not in "1234":
        raise InvalidInput("a quarter is written like 2026Q3", field="quarter")
    year, number = int(clean[:4]), int(clean[5])
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise InvalidInput(f"a quarter lies within {FIRST_YEAR}–{LAST_YEAR}", field="quarter")
    first = date(year, 3 * number - 2, 1)
    following = date(year + 1, 1, 1) if number == 4 else date(year, 3 * number + 1, 1)
    return Period(first, following - timedelta(days=1))


def quarter_of(day: date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def quarters_ending(quarter: str, count: int) -> list[str]:
    """The `count` quarters up to and including `quarter`, oldest first."""
    period = quarter_period(quarter)
    labels = [quarter]
    day = period.first
    while len(labels) < count:
        day = (day - timedelta(days=1)).replace(day=1)
        label = quarter_of(day)
        if label != labels[-1]:
            labels.append(label)
    return labels[::-1]


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


def _ratio(numerator: str, denominator: str, scale: int = 100) -> Callable[[Figures], Value]:
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
        _ratio("complaints_closed_24h", "complaints_closed"),
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
        _ratio("follow_ups_done", "follow_ups"),
        Drill("follow_ups", "follow_ups_done"),
        Drill("follow_ups", "follow_ups"),
        plan=True,
    ),
    Kpi(
        "personalised_coverage",
        _("Personalised-service coverage"),
        _(
            "Share of customers served with a personalised offer or treatment. Not yet "
            "measurable: bankdesk does not yet record personalised service."
        ),
        "percent",
        Direction.HIGHER,
        None,
        plan=True,
        measurable=False,
    ),
    Kpi(
        "csat",
        _("CSAT"),
        _("Of the survey answers given in the period with a satisfaction score, those of 4 or 5."),
        "percent",
        Direction.HIGHER,
        _ratio("csat_satisfied", "csat_scored"),
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
        _ratio("surveys_answered", "surveys_sent"),
        Drill("invitations", "surveys_answered"),
        Drill("invitations", "surveys_sent"),
    ),
    Kpi(
        "complaint_rate_cases",
        _("Complaints per 1,000 cases"),
        _("Complaints received in the period per 1,000 cases opened in the period."),
        "per_1000",
        Direction.LOWER,
        _ratio("complaints", "created", 1000),
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
        _ratio("complaints_extended", "complaints_decided"),
        Drill("complaints", "complaints_extended"),
        Drill("complaints", "complaints_decided"),
    ),
    Kpi(
        "complaint_reopen_rate",
        _("Complaint reopen rate"),
        _("Of the complaints closed in the period, those that had been reopened."),
        "percent",
        Direction.LOWER,
        _ratio("complaints_reopened", "complaints_closed"),
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
        _ratio("created_resolved", "created"),
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
        _ratio("first_contact", "resolved"),
        Drill("resolutions", "first_contact"),
        Drill("resolutions", "resolved"),
    ),
    Kpi(
        "reopen_rate",
        _("Reopen rate"),
        _("Of the cases resolved in the period, those that had been reopened before."),
        "percent",
        Direction.LOWER,
        _ratio("reopened", "resolved"),
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
        _ratio("sla_met", "sla_due"),
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
        _ratio("dialogues_contained", "dialogues"),
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


# --- reading the rollups ---------------------------------------------------------------------


def _columns(histograms: bool) -> tuple[str, ...]:
    return ("figures", "histograms") if histograms else ("figures",)


def _merge_row(into: Figures, parts: tuple[Figures, ...]) -> None:
    for part in parts:
        merge(into, part)


def figures_for(
    period: Period, dimension: str = ALL, *, histograms: bool = True
) -> dict[str, Figures]:
    """The period's figures, added up by the dimension's keys ("*" for the whole centre);
    without the time histograms when only counts are wanted."""
    totals: dict[str, Figures] = {}
    rows = Rollup.objects.filter(
        dimension=dimension, day__gte=period.first, day__lte=period.last
    ).values_list("key", *_columns(histograms))
    for key, *parts in rows.iterator(chunk_size=2000):
        _merge_row(totals.setdefault(key, {}), tuple(parts))
    return totals


def figures_by_month(period: Period) -> dict[str, Figures]:
    """The whole centre's figures for each month of the period ("2026-10")."""
    totals: dict[str, Figures] = {}
    rows = Rollup.objects.filter(
        dimension=ALL, day__gte=period.first, day__lte=period.last
    ).values_list("day", *_columns(True))
    for day, *parts in rows:
        _merge_row(totals.setdefault(day.strftime("%Y-%m"), {}), tuple(parts))
    return dict(sorted(totals.items()))


def month_period(key: str, within: Period) -> Period:
    """The month "2026-10", cut to the period it is part of."""
    try:
        first = date.fromisoformat(f"{key}-01")
    except ValueError:
        raise InvalidInput("a month is written like 2026-10", field="key") from None
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return Period(max(first, within.first), min(following - timedelta(days=1), within.last))


def figures_by_quarter(quarters: list[str], *, histograms: bool = True) -> dict[str, Figures]:
    """The whole centre's figures for each of these quarters, in one read."""
    periods = {label: quarter_period(label) for label in quarters}
    first = min(period.first for period in periods.values())
    last = max(period.last for period in periods.values())
    totals: dict[str, Figures] = {label: {} for label in quarters}
    rows = Rollup.objects.filter(dimension=ALL, day__gte=first, day__lte=last).values_list(
        "day", *_columns(histograms)
    )
    for day, *parts in rows:
        label = quarter_of(day)
        if label in totals:
            _merge_row(totals[label], tuple(parts))
    return totals


@dataclass(frozen=True)
class Backlog:
    """Cases open at a moment, and the median and p90 of how long they had been (minutes)."""

    count: int
    p50: int | None
    p90: int | None

    @classmethod
    def of(cls, ages: list[int]) -> Backlog:
        ages = sorted(ages)
        return cls(len(ages), _nearest_rank(ages, 0.5), _nearest_rank(ages, 0.9))


EMPTY_BACKLOG = Backlog(0, None, None)


def _nearest_rank(ordered: list[int], share: float) -> int | None:
    return ordered[rank_of(share, len(ordered)) - 1] if ordered else None


def _open_at(moment: datetime) -> tuple[QuerySet[CaseFact], QuerySet[CaseFact]]:
    """Open at `moment`: still unresolved (on the partial index), or resolved only later."""
    opened = CaseFact.objects.filter(created_at__lt=moment, merged=False)
    return opened.filter(resolved_at=None), opened.filter(resolved_at__gte=moment)


def backlog_at(period: Period) -> Backlog:
    """The whole centre's backlog at the period's end (or now), counted in the database: the
    count, then the two cases at the median's and the p90's rank, youngest first."""
    moment = min(period.until, timezone.now())
    still, later = _open_at(moment)
    count = still.count() + later.count()
    ages: list[int | None] = []
    for share in (0.5, 0.9):
        if not count:
            ages.append(None)
            continue
        rank = rank_of(share, count)
        # The rank-th oldest age is the (count - rank + 1)-th newest creation.
        newest = (
            still.values_list("created_at", flat=True)
            .union(later.values_list("created_at", flat=True), all=True)
            .order_by("created_at")
        )
        created = newest[count - rank]
        ages.append(int((moment - created).total_seconds() // 60))
    return Backlog(count, ages[0], ages[1])


def backlogs(period: Period, group_by: str) -> dict[str, Backlog]:
    """The backlog at the period's end (or now) for each key of `group_by` and the whole
    centre ("*"), from one reading of the open cases."""
    moment = min(period.until, timezone.now())
    column = _FACT_COLUMNS[group_by]
    found: dict[str, list[int]] = {"*": []}
    for part in _open_at(moment):
        for created, key in part.values_list("created_at", column).iterator(chunk_size=5000):
            age = int((moment - created).total_seconds() // 60)
            found["*"].append(age)
            found.setdefault(NONE_KEY if key in {None, ""} else str(key), []).append(age)
    return {key: Backlog.of(ages) for key, ages in found.items()}


_FACT_COLUMNS = {
    "channel": "channel",
    "team": "team_id",
    "agent": "agent_id",
    "category": "category_id",
    "branch": "branch_id",
    "tier": "tier",
}


def _customers(period: Period) -> int:
    return Customer.objects.filter(is_provisional=False, created_at__lt=period.until).count()


@dataclass
class Line:
    """One indicator for one slice (or the whole centre)."""

    key: str
    label: str
    value: Value


@dataclass
class Result:
    kpi: Kpi
    value: Value
    target: Target | None = None
    status: str = "none"  # met, near, missed, unmeasurable, none
    baseline: Value | None = None
    rows: list[Line] = field(default_factory=list)
    parts: list[Line] = field(default_factory=list)  # SLA attainment by policy and target


def targets() -> dict[str, Target]:
    return {target.code: target for target in Target.objects.all()}


def status_of(value: float | None, target: Target | None, *, measurable: bool = True) -> str:
    if not measurable:
        return "unmeasurable"
    if target is None or value is None:
        return "none"
    goal = target.value
    actual = Decimal(str(value))
    better = actual >= goal if target.direction == Direction.HIGHER else actual <= goal
    if better:
        return "met"
    gap = abs(actual - goal)
    return "near" if gap <= abs(goal) * NEAR else "missed"


def baseline_period(period: Period, target: Target | None) -> Period:
    if target is not None and target.baseline_quarter:
        return quarter_period(target.baseline_quarter)
    return period.year_before()


def _change(now: Value, before: Value) -> Value:
    if now.value is None or before.value is None or before.value == 0:
        return Value(None, now.numerator, now.denominator)
    return Value(
        round(100 * (now.value - before.value) / before.value, 1), now.numerator, now.denominator
    )


def value_of(
    kpi: Kpi,
    figures: Figures,
    period: Period,
    *,
    baseline: Figures | None = None,
    backlog: Backlog | None = None,
) -> Value:
    """One indicator's value from the period's (summed) figures."""
    if not kpi.measurable:
        return Value(None)
    if kpi.compute is not None:
        return kpi.compute(figures)
    if kpi.code == "csat_change":
        csat = BY_CODE["csat"].compute
        assert csat is not None
        return _change(csat(figures), csat(baseline or {}))
    if kpi.code == "complaint_rate_customers":
        customers = _customers(period)
        complaints = figures.get("complaints", 0)
        return Value(
            round(10000 * complaints / customers, 1) if customers else None, complaints, customers
        )
    open_cases = backlog if backlog is not None else backlog_at(period)
    if kpi.code == "backlog":
        return Value(open_cases.count, open_cases.count, None)
    age = open_cases.p50 if kpi.code == "backlog_age_p50" else open_cases.p90
    return Value(age, None, open_cases.count)


def kpis_compute(
    period: Period, *, group_by: str | None = None, codes: Iterable[str] | None = None
) -> list[Result]:
    """Every indicator (or these) over the period: the whole centre, with one line per key of
    `group_by` when asked."""
    if period.last < period.first:
        raise InvalidInput("the period ends before it starts", field="to")
    if group_by is not None and group_by not in GROUPS:
        raise InvalidInput("unknown slice", field="group_by")
    wanted = [kpi_get(code) for code in codes] if codes is not None else list(KPIS)
    kept = targets()
    whole = figures_for(period).get("*", {})
    csat_target = kept.get("csat_change")
    base_period = baseline_period(period, csat_target)
    base = figures_for(base_period, histograms=False).get("*", {})
    if group_by == "month":
        grouped = figures_by_month(period)
        labels = {key: key for key in grouped}
        open_cases = {"*": backlog_at(period)} | {
            key: backlog_at(month_period(key, period)) for key in grouped
        }
    else:
        open_cases = backlogs(period, group_by) if group_by else {"*": backlog_at(period)}
        grouped = figures_for(period, group_by) if group_by in DIMENSIONS else {}
        labels = slice_labels(group_by, grouped.keys()) if group_by in DIMENSIONS else {}
    results: list[Result] = []
    for kpi in wanted:
        value = value_of(kpi, whole, period, baseline=base, backlog=open_cases["*"])
        target = kept.get(kpi.code)
        status = status_of(value.value, target, measurable=kpi.measurable)
        result = Result(kpi, value, target, status)
        if kpi.code == "csat_change":
            csat = BY_CODE["csat"].compute
            assert csat is not None
            result.baseline = csat(base)
        # CSAT's change and the rate per customer are not counted by slice.
        sliced = kpi.measurable and kpi.code not in {"csat_change", "complaint_rate_customers"}
        if group_by is not None and sliced:
            for key in sorted(grouped, key=lambda k: labels.get(k, k)):
                line_backlog = open_cases.get(key, EMPTY_BACKLOG)
                line = value_of(kpi, grouped[key], period, backlog=line_backlog)
                result.rows.append(Line(key, labels.get(key, key), line))
        if kpi.code == "sla_attainment":
            result.parts = sla_parts(whole)
        results.append(result)
    return results


def sla_parts(figures: Figures) -> list[Line]:
    """SLA attainment per policy and target."""
    ids = sorted(
        {
            int(name.split(":")[1])
            for name in figures
            if name.startswith("sla:") and name.endswith(":due")
        }
    )
    names = {
        target.pk: f"{target.policy.name} · {target.name}"
        for target in SlaTarget.objects.filter(pk__in=ids).select_related("policy")
    }
    lines = []
    for target_id in ids:
        value = _ratio(f"sla:{target_id}:met", f"sla:{target_id}:due")(figures)
        lines.append(Line(str(target_id), names.get(target_id, str(target_id)), value))
    return sorted(lines, key=lambda line: line.label)


def slice_labels(dimension: str | None, keys: Iterable[str]) -> dict[str, str]:
    """What a slice's keys are called: people's names, teams, channels ..."""
    keys = [key for key in keys if key not in {NONE_KEY, "*"}]
    names: dict[str, str] = {NONE_KEY: str(_("None"))}
    numbers = [int(key) for key in keys if key.isdigit()]
    if dimension == "agent":
        names |= {
            str(u.pk): u.get_full_name() or u.username for u in User.objects.filter(pk__in=numbers)
        }
    elif dimension == "team":
        names |= {
            str(pk): name
            for pk, name in Team.objects.filter(pk__in=numbers).values_list("pk", "name")
        }
    elif dimension == "category":
        names |= {
            str(pk): name
            for pk, name in Category.objects.filter(pk__in=numbers).values_list("pk", "name")
        }
    elif dimension == "branch":
        names |= {
            str(pk): name
            for pk, name in Branch.objects.filter(pk__in=numbers).values_list("pk", "name")
        }
    elif dimension == "channel":
        names |= {value: str(label) for value, label in Channel.choices}
    elif dimension == "tier":
        names |= {value: str(label) for value, label in Tier.choices}
    return names


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


def rows_as_dict(results: list[Result]) -> dict[str, Any]:
    """code → value, for tests and comparisons."""
    return {result.kpi.code: result.value for result in results}


def trends(codes: Iterable[str], quarters: list[str]) -> dict[str, list[tuple[str, float | None]]]:
    """Each indicator's value in each of these quarters, oldest first."""
    wanted = [kpi_get(code) for code in codes]
    times = any(kpi.unit == "minutes" for kpi in wanted)
    totals = figures_by_quarter(quarters, histograms=times)
    kept = targets()
    points: dict[str, list[tuple[str, float | None]]] = {}
    for kpi in wanted:
        line = []
        for label in quarters:
            period = quarter_period(label)
            base = None
            if kpi.code == "csat_change":
                base_period = baseline_period(period, kept.get(kpi.code))
                base = figures_for(base_period, histograms=False).get("*", {})
            line.append((label, value_of(kpi, totals[label], period, baseline=base).value))
        points[kpi.code] = line
    return points
