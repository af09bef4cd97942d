"""The plan's follow-up and satisfaction indicators, each with its numerator and denominator,
for a period and broken down by agent, team, channel, category or month.

- Follow-up rate: of the cases first resolved in the period that needed a follow-up, those
  whose follow-up is done (the customer reached and gave a verdict).
- CSAT: of the answers given in the period with a satisfaction score, those of 4 or 5.
- NPS: promoters (9–10) less detractors (0–6), over the answers with a recommendation score,
  in points from -100 to 100.
- Response rate: of the invitations sent in the period, those answered (by any means).

A response counts where the work was done: the agent, team, channel and category are the
case's when it was resolved.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils import timezone

from bankdesk.feedback.choices import FollowUpStatus, SurveyStatus
from bankdesk.feedback.models import FollowUp, Survey, SurveyResponse
from bankdesk.lib.channels import Channel
from bankdesk.lib.errors import InvalidInput
from bankdesk.staff.models import Team, User
from bankdesk.tickets.models import Category

DIMENSIONS = ("agent", "team", "channel", "category", "month")


@dataclass(frozen=True)
class Rate:
    numerator: int
    denominator: int

    @property
    def percent(self) -> float | None:
        if not self.denominator:
            return None
        return round(100 * self.numerator / self.denominator, 1)


@dataclass(frozen=True)
class Nps:
    promoters: int
    detractors: int
    answers: int

    @property
    def score(self) -> float | None:
        if not self.answers:
            return None
        return round(100 * (self.promoters - self.detractors) / self.answers, 1)


@dataclass
class IndicatorRow:
    """One line: the whole period (key None) or one value of the breakdown."""

    key: Any
    label: str
    follow_up: Rate = field(default_factory=lambda: Rate(0, 0))
    csat: Rate = field(default_factory=lambda: Rate(0, 0))
    nps: Nps = field(default_factory=lambda: Nps(0, 0, 0))
    response: Rate = field(default_factory=lambda: Rate(0, 0))


def _grouped(
    queryset: QuerySet[Any], by: str | None, path: str, **counts: Any
) -> list[dict[str, Any]]:
    """Counts over `queryset`, one row per value of the breakdown (`path` leads to the
    snapshot fields; months come from `time`)."""
    time_field = counts.pop("time")
    if by is None:
        return [{"key": None, **queryset.aggregate(**counts)}]
    if by == "month":
        grouped = queryset.annotate(
            key=TruncMonth(time_field, tzinfo=timezone.get_current_timezone())
        )
    else:
        grouped = queryset.annotate(key=_field(path, by))
    return list(grouped.values("key").annotate(**counts).order_by("key"))


def _field(path: str, by: str) -> Any:
    column = by if by == "channel" else f"{by}_id"
    return F(f"{path}{column}")


def indicators(*, since: datetime, until: datetime, by: str | None = None) -> list[IndicatorRow]:
    """The four indicators over [since, until), for the whole period or broken down `by`."""
    if by is not None and by not in DIMENSIONS:
        raise InvalidInput("unknown breakdown", field="by")
    if until <= since:
        raise InvalidInput("the period ends before it starts", field="until")
    rows: dict[Any, IndicatorRow] = {}

    def row(key: Any) -> IndicatorRow:
        if key not in rows:
            rows[key] = IndicatorRow(key=key, label="")
        return rows[key]

    follow_ups = FollowUp.objects.filter(resolved_at__gte=since, resolved_at__lt=until)
    for counted in _grouped(
        follow_ups,
        by,
        "",
        time="resolved_at",
        needed=Count("id"),
        done=Count("id", filter=Q(status=FollowUpStatus.DONE)),
    ):
        row(counted["key"]).follow_up = Rate(counted["done"] or 0, counted["needed"] or 0)

    responses = SurveyResponse.objects.filter(answered_at__gte=since, answered_at__lt=until)
    for counted in _grouped(
        responses,
        by,
        "survey__",
        time="answered_at",
        scored=Count("id", filter=Q(csat__isnull=False)),
        satisfied=Count("id", filter=Q(csat__gte=4)),
        recommending=Count("id", filter=Q(nps__isnull=False)),
        promoters=Count("id", filter=Q(nps__gte=9)),
        detractors=Count("id", filter=Q(nps__lte=6)),
    ):
        line = row(counted["key"])
        line.csat = Rate(counted["satisfied"] or 0, counted["scored"] or 0)
        line.nps = Nps(
            counted["promoters"] or 0, counted["detractors"] or 0, counted["recommending"] or 0
        )

    invited = Survey.objects.filter(send_at__gte=since, send_at__lt=until).exclude(sent_by="")
    for counted in _grouped(
        invited,
        by,
        "",
        time="send_at",
        sent=Count("id"),
        answered=Count("id", filter=Q(status=SurveyStatus.ANSWERED)),
    ):
        row(counted["key"]).response = Rate(counted["answered"] or 0, counted["sent"] or 0)

    if by is None:
        rows.setdefault(None, IndicatorRow(key=None, label=""))
    _label(rows.values(), by)
    return sorted(rows.values(), key=_order(by))


def _order(by: str | None) -> Callable[[IndicatorRow], Any]:
    if by == "month":
        return lambda r: (r.key is None, r.key or timezone.now())
    return lambda r: (r.key is None, r.label)


def _label(rows: Iterable[IndicatorRow], by: str | None) -> None:
    rows = list(rows)
    keys = [r.key for r in rows if r.key is not None]
    names: dict[Any, str] = {}
    if by == "agent":
        names = {u.pk: u.get_full_name() or u.username for u in User.objects.filter(pk__in=keys)}
    elif by == "team":
        names = dict(Team.objects.filter(pk__in=keys).values_list("pk", "name"))
    elif by == "category":
        names = dict(Category.objects.filter(pk__in=keys).values_list("pk", "name"))
    elif by == "channel":
        names = {value: str(label) for value, label in Channel.choices}
    for line in rows:
        if line.key is None:
            line.label = "—" if by else ""
        elif by == "month":
            line.label = (
                timezone.localtime(line.key).strftime("%Y-%m")
                if isinstance(line.key, datetime)
                else str(line.key)
            )
        else:
            line.label = names.get(line.key, str(line.key))
