"""Indicators API: every indicator for a period, with its value, target, status, numerator,
denominator and definition (`GET /kpis`), and the records behind one of its numbers
(`GET /kpis/{code}/cases`). Periods are whole days on the bank's clock, both ends included, or
a quarter."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field, model_validator

from bankdesk.analytics.catalogue import BY_CODE, target_text, value_text
from bankdesk.analytics.drill import drill_items
from bankdesk.analytics.kpis import Line, Result, kpis_compute
from bankdesk.analytics.periods import Period, period_of, quarter_period
from bankdesk.lib.api import error_responses
from bankdesk.lib.errors import InvalidInput, NotFound
from bankdesk.staff.auth import request_staff, require_perm
from bankdesk.tickets.models import Case

router = Router(tags=["analytics"])

LONGEST_PERIOD = timedelta(days=2 * 366)
Slice = Literal["channel", "team", "agent", "category", "branch", "tier", "month"]


class KpiPeriodQuery(Schema):
    from_: date | None = Field(default=None, alias="from", description="First day (included)")
    to: date | None = Field(default=None, description="Last day (included)")
    quarter: str | None = Field(
        default=None, pattern=r"^\d{4}Q[1-4]$", description="Instead of from/to: 2026Q3"
    )

    @model_validator(mode="after")
    def _period(self) -> KpiPeriodQuery:
        if self.quarter is not None:
            if self.from_ is not None or self.to is not None:
                raise ValueError("give a quarter, or from and to, not both")
            return self
        if self.from_ is None or self.to is None:
            raise ValueError("give from and to, or a quarter")
        if self.to < self.from_:
            raise ValueError("to must not come before from")
        if self.to - self.from_ > LONGEST_PERIOD:
            raise ValueError("a period of at most two years")
        return self

    def period(self) -> Period:
        if self.quarter is not None:
            return quarter_period(self.quarter)
        assert self.from_ is not None and self.to is not None
        return period_of(self.from_, self.to)


class KpiQuery(KpiPeriodQuery):
    group_by: Slice | None = Field(default=None, description="One line per value of this slice")


class KpiDrillQuery(KpiPeriodQuery):
    part: Literal["numerator", "denominator"] = "denominator"
    group_by: Slice | None = Field(default=None, description="With key: one slice's records")
    key: str | None = Field(default=None, max_length=40, description="The slice's value")
    target: str | None = Field(
        default=None, pattern=r"^\d{1,10}$", description="SLA attainment: one target's clocks"
    )
    limit: int = Field(default=100, ge=1, le=1000)
    offset: int = Field(default=0, ge=0, le=10_000_000)


class KpiLineOut(Schema):
    key: str
    label: str
    value: float | None
    numerator: int | None
    denominator: int | None


class KpiTargetOut(Schema):
    value: float
    direction: Literal["higher", "lower"]
    text: str
    baseline_quarter: str | None = None


class KpiOut(Schema):
    code: str
    name: str
    definition: str
    unit: str = Field(description="percent, change, minutes, score, count, per_1000, per_10000")
    direction: Literal["higher", "lower"] = Field(description="Which way is better")
    measurable: bool
    value: float | None
    value_text: str
    numerator: int | None
    denominator: int | None
    target: KpiTargetOut | None
    status: Literal["met", "near", "missed", "unmeasurable", "none"]
    plan: bool = Field(description="One of the plan's own targets")
    baseline: KpiLineOut | None = Field(default=None, description="CSAT change: the baseline CSAT")
    rows: list[KpiLineOut] = Field(default_factory=list, description="One line per slice")
    parts: list[KpiLineOut] = Field(default_factory=list, description="SLA: per policy and target")


class KpisOut(Schema):
    first: date
    last: date
    group_by: str | None
    indicators: list[KpiOut]


class KpiDrillItemOut(Schema):
    day: date
    case_id: int | None
    number: str | None
    item: str
    customer_id: int | None = Field(
        default=None, description="Set where the item is a customer (coverage's drill-down)"
    )


class KpiDrillOut(Schema):
    code: str
    part: str
    count: int = Field(description="How many records count: the number the drill-down opened from")
    items: list[KpiDrillItemOut]


def _line(line: Line) -> dict[str, Any]:
    value = line.value
    return {
        "key": line.key,
        "label": line.label,
        "value": value.value,
        "numerator": value.numerator,
        "denominator": value.denominator,
    }


def result_out(result: Result) -> dict[str, Any]:
    kpi, value, target = result.kpi, result.value, result.target
    return {
        "code": kpi.code,
        "name": str(kpi.name),
        "definition": str(kpi.definition),
        "unit": kpi.unit,
        "direction": kpi.direction,
        "measurable": kpi.measurable,
        "value": value.value,
        "value_text": value_text(kpi, value.value),
        "numerator": value.numerator,
        "denominator": value.denominator,
        "target": None
        if target is None
        else {
            "value": float(target.value),
            "direction": target.direction,
            "text": target_text(kpi, target),
            "baseline_quarter": target.baseline_quarter or None,
        },
        "status": result.status,
        "plan": kpi.plan,
        "baseline": None
        if result.baseline is None
        else {
            "key": "baseline",
            "label": "baseline",
            "value": result.baseline.value,
            "numerator": result.baseline.numerator,
            "denominator": result.baseline.denominator,
        },
        "rows": [_line(line) for line in result.rows],
        "parts": [_line(line) for line in result.parts],
    }


@router.get(
    "",
    response={200: KpisOut, **error_responses()},
    summary="Every indicator for a period: value, target, status, numerator, denominator",
)
def kpis_get(request: HttpRequest, query: Query[KpiQuery]) -> dict[str, Any]:
    require_perm(request_staff(request), "analytics.view_dashboard")
    period = query.period()
    results = kpis_compute(period, group_by=query.group_by)
    return {
        "first": period.first,
        "last": period.last,
        "group_by": query.group_by,
        "indicators": [result_out(result) for result in results],
    }


@router.get(
    "/{code}/cases",
    response={200: KpiDrillOut, **error_responses(404)},
    summary="The records behind an indicator's numerator or denominator",
)
def kpi_cases(request: HttpRequest, code: str, query: Query[KpiDrillQuery]) -> dict[str, Any]:
    require_perm(request_staff(request), "analytics.view_dashboard")
    if code not in BY_CODE:
        raise NotFound("no such indicator", field="code")
    if (query.group_by is None) != (query.key is None):
        raise InvalidInput("give group_by and key together", field="key")
    items = drill_items(
        code,
        query.period(),
        part=query.part,
        dimension=query.group_by,
        key=query.key,
        target=query.target,
    )
    page = items[query.offset : query.offset + query.limit]
    numbers = dict(
        Case.objects.filter(pk__in=[i.case_id for i in page if i.case_id]).values_list(
            "pk", "number"
        )
    )
    return {
        "code": code,
        "part": query.part,
        "count": len(items),
        "items": [
            {
                "day": item.day,
                "case_id": item.case_id,
                "number": numbers.get(item.case_id) if item.case_id else None,
                "item": item.item,
                "customer_id": item.customer_id,
            }
            for item in page
        ],
    }
