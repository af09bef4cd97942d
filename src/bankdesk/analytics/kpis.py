"""The indicators of a period (`catalogue.py` defines them): the rollups' counts summed over
its days, for the whole centre and by slice or month, each against its target (data,
`Target`; an indicator without a target row has none), with the last quarters' trend.

Periods are whole days on the bank's clock, [first, last + 1 day). Everything but the backlog
and the complaint rate per customer comes from the rollups; those two are states, read at the
period's end from the facts and the customer register.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bankdesk.analytics.catalogue import (
    BY_CODE,
    GROUPS,
    KPIS,
    Figures,
    Kpi,
    Value,
    kpi_get,
    rank_of,
    ratio,
)
from bankdesk.analytics.models import CaseFact, Direction, Rollup, Target
from bankdesk.analytics.periods import Period, month_period, quarter_of, quarter_period
from bankdesk.analytics.rollups import merge
from bankdesk.analytics.sources import ALL, DIMENSIONS, NONE_KEY
from bankdesk.customers.choices import Tier
from bankdesk.customers.models import Customer
from bankdesk.lib.channels import Channel
from bankdesk.lib.errors import InvalidInput
from bankdesk.personalization.selectors import coverage_at
from bankdesk.sla.models import SlaTarget
from bankdesk.staff.models import Branch, Team, User
from bankdesk.tickets.models import Category

# Indicators counted for the whole centre only: a change against a baseline, and the ones
# whose denominator is customers rather than cases.
UNSLICED = frozenset({"csat_change", "complaint_rate_customers", "personalised_coverage"})
NEAR = Decimal("0.05")  # within 5 % of the target (of its size): amber, not red


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
    if kpi.code == "personalised_coverage":
        coverage = coverage_at(period.until)
        return Value(coverage.value, coverage.covered, coverage.active)
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
        sliced = kpi.measurable and kpi.code not in UNSLICED
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
        value = ratio(f"sla:{target_id}:met", f"sla:{target_id}:due")(figures)
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
