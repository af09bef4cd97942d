"""The records behind a number: the same source the rollups add up, run over the period and
kept where they count toward the indicator's numerator or denominator, in the slice asked for.
So the count of a drill-down is the number it opened from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bankdesk.analytics.catalogue import GROUPS, kpi_get
from bankdesk.analytics.periods import Period, month_period
from bankdesk.analytics.sources import SOURCES
from bankdesk.lib.errors import InvalidInput
from bankdesk.personalization.selectors import coverage_customers

PARTS = ("numerator", "denominator")


@dataclass(frozen=True)
class Item:
    day: date
    case_id: int | None
    item: str
    customer_id: int | None = None


def drill_items(
    code: str,
    period: Period,
    *,
    part: str = "denominator",
    dimension: str | None = None,
    key: str | None = None,
    target: str | None = None,
) -> list[Item]:
    """What counts toward the indicator's `part` over the period (in one slice, or for one SLA
    target), oldest first."""
    kpi = kpi_get(code)
    if part not in PARTS:
        raise InvalidInput("part is numerator or denominator", field="part")
    drill = kpi.numerator if part == "numerator" else kpi.denominator
    if drill is None:
        raise InvalidInput("this indicator has no records behind that part", field="part")
    if dimension is not None and dimension not in GROUPS:
        raise InvalidInput("unknown slice", field="group_by")
    if (dimension is None) != (key is None):
        raise InvalidInput("a slice needs both group_by and key", field="key")
    if dimension == "month":
        assert key is not None
        period, dimension, key = month_period(key, period), None, None
    if drill.source == "coverage":
        if dimension is not None:
            raise InvalidInput("coverage is counted for the whole centre only", field="group_by")
        return _customers(period, drill.measure)
    measure = drill.measure
    if target is not None:
        if drill.source != "sla" or not target.isdigit():
            raise InvalidInput("a target is asked for SLA attainment only", field="target")
        measure = f"sla:{target}:{'met' if part == 'numerator' else 'due'}"
    items = [
        Item(part_.day, part_.case_id, part_.item)
        for part_ in SOURCES[drill.source](period.since, period.until)
        if part_.counts.get(measure, 0) > 0
        and (dimension is None or part_.slices[dimension] == key)
    ]
    return sorted(items, key=lambda item: (item.day, item.case_id or 0, item.item))


def _customers(period: Period, measure: str) -> list[Item]:
    """The customers behind coverage at the period's end: the active ones, or those covered."""
    rows = coverage_customers(period.until, measure).order_by("customer_number")
    return [
        Item(period.last, None, number, pk)
        for pk, number in rows.values_list("pk", "customer_number")
    ]
