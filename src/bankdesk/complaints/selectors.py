"""Reading complaints for the plan's measures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, QuerySet

from bankdesk.complaints.models import Complaint

WITHIN = timedelta(hours=24)


@dataclass(frozen=True)
class ClosureRatio:
    """The plan's measure: of the complaints closed in a period, how many closed within 24
    hours of receipt (a reopened complaint counts by its last closure, from first receipt)."""

    within: int
    total: int

    @property
    def percent(self) -> float | None:
        return round(100 * self.within / self.total, 1) if self.total else None


def closure_within_24h(
    complaints: QuerySet[Complaint], *, since: datetime, until: datetime
) -> ClosureRatio:
    """Counted in the database, in one statement, over complaints closed in [since, until)."""
    taken = ExpressionWrapper(F("closed_at") - F("received_at"), output_field=DurationField())
    counts = (
        complaints.filter(closed_at__gte=since, closed_at__lt=until)
        .annotate(taken=taken)
        .aggregate(total=Count("pk"), within=Count("pk", filter=Q(taken__lte=WITHIN)))
    )
    return ClosureRatio(within=counts["within"], total=counts["total"])
