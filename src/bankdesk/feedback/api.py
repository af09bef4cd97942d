"""Feedback API: the follow-up and satisfaction indicators, for dashboards and the quarterly
evaluation. Each figure comes with its numerator and denominator."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field, model_validator

from bankdesk.feedback.indicators import IndicatorRow, indicators
from bankdesk.lib.api import AwareDatetime, error_responses
from bankdesk.staff.auth import request_staff, require_perm

router = Router(tags=["feedback"])

LONGEST_PERIOD = timedelta(days=2 * 366)


class IndicatorQuery(Schema):
    since: AwareDatetime = Field(description="Start of the period (included)")
    until: AwareDatetime = Field(description="End of the period (not included)")
    by: Literal["agent", "team", "channel", "category", "month"] | None = Field(
        default=None, description="Break the period down; empty: one row for the whole period"
    )

    @model_validator(mode="after")
    def _period(self) -> IndicatorQuery:
        if self.until <= self.since:
            raise ValueError("until must come after since")
        if self.until - self.since > LONGEST_PERIOD:
            raise ValueError("a period of at most two years")
        return self


class RateOut(Schema):
    numerator: int
    denominator: int
    percent: float | None


class NpsOut(Schema):
    promoters: int
    detractors: int
    answers: int
    score: float | None = Field(description="Promoters less detractors, per 100 answers")


class IndicatorOut(Schema):
    key: str | None = Field(description="The breakdown's value (an id, a channel, a month)")
    label: str
    follow_up_rate: RateOut
    csat: RateOut
    nps: NpsOut
    response_rate: RateOut


def _rate(numerator: int, denominator: int, percent: float | None) -> dict[str, Any]:
    return {"numerator": numerator, "denominator": denominator, "percent": percent}


def _out(row: IndicatorRow) -> dict[str, Any]:
    # A month is said as its label (2026-11, on the bank's clock), anything else by its value.
    key = None if row.key is None else row.label if isinstance(row.key, datetime) else str(row.key)
    return {
        "key": key,
        "label": row.label,
        "follow_up_rate": _rate(
            row.follow_up.numerator, row.follow_up.denominator, row.follow_up.percent
        ),
        "csat": _rate(row.csat.numerator, row.csat.denominator, row.csat.percent),
        "nps": {
            "promoters": row.nps.promoters,
            "detractors": row.nps.detractors,
            "answers": row.nps.answers,
            "score": row.nps.score,
        },
        "response_rate": _rate(
            row.response.numerator, row.response.denominator, row.response.percent
        ),
    }


@router.get(
    "/indicators",
    response={200: list[IndicatorOut], **error_responses()},
    summary="Follow-up rate, CSAT, NPS and response rate for a period, with their counts",
)
def indicators_get(request: HttpRequest, query: Query[IndicatorQuery]) -> list[dict[str, Any]]:
    require_perm(request_staff(request), "feedback.view_indicators")
    rows = indicators(since=query.since, until=query.until, by=query.by)
    return [_out(row) for row in rows]
