"""Keeping the rollups: facts replayed for the cases whose events are new, then every day those
cases counted on (before and after) added up again from the sources.

`rollups_refresh` runs as a background task every few minutes; `rollups_rebuild` makes facts
and rollups again from nothing and is how a changed definition reaches history. Either way a
day's rollup is a pure function of the records, so a rebuild finds what the refresh kept.

Records that change without a case event are caught by the refresh's window: it always adds up
yesterday, today and tomorrow again (an overdue SLA target, an invitation withdrawn by an
opt-out, a dialogue with the assistant), and complaints and dialogues changed since the last
refresh mark their days.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from bankdesk.analytics.catalogue import Figures
from bankdesk.analytics.facts import fact_values, facts_replay
from bankdesk.analytics.models import CaseFact, Rollup, RollupState
from bankdesk.analytics.periods import day_start
from bankdesk.analytics.sources import ALL, DIMENSIONS, contributions, local_day
from bankdesk.assistant.models import Dialogue
from bankdesk.complaints.models import Complaint
from bankdesk.feedback.models import FollowUp, Survey
from bankdesk.sla.models import SlaClock
from bankdesk.tickets.models import Case, CaseEvent

EVENT_BATCH = 5000


def add(figures: Figures, counts: dict[str, int], minutes: dict[str, int]) -> None:
    for name, value in counts.items():
        figures[name] = figures.get(name, 0) + value
    for name, value in minutes.items():
        histogram = figures.setdefault(f"h:{name}", {})
        histogram[str(value)] = histogram.get(str(value), 0) + 1


def merge(into: Figures, figures: Figures) -> None:
    """Add one rollup's figures to another's."""
    for name, value in figures.items():
        if name.startswith("h:"):
            histogram = into.setdefault(name, {})
            for minutes, count in value.items():
                histogram[minutes] = histogram.get(minutes, 0) + count
        else:
            into[name] = into.get(name, 0) + value


def figures_by_day(first: date, last: date) -> dict[tuple[date, str, str], Figures]:
    """Every slice's figures for each day of [first, last], added up from the sources."""
    rollups: dict[tuple[date, str, str], Figures] = defaultdict(dict)
    for part in contributions(day_start(first), day_start(last + timedelta(days=1))):
        add(rollups[(part.day, ALL, "*")], part.counts, part.minutes)
        for dimension in DIMENSIONS:
            add(rollups[(part.day, dimension, part.slices[dimension])], part.counts, part.minutes)
    return rollups


def _spans(days: Iterable[date]) -> list[tuple[date, date]]:
    """Runs of consecutive days, so a month of dirty days is read in one pass."""
    spans: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if spans and day == spans[-1][1] + timedelta(days=1):
            spans[-1] = (spans[-1][0], day)
        else:
            spans.append((day, day))
    return spans


def days_recompute(days: Iterable[date], *, progress: Callable[[int], None] | None = None) -> int:
    """Add these days up again and replace their rollups; returns how many rows were written."""
    written = 0
    for first, last in _spans(days):
        # A long run is read a month at a time: memory stays flat on a year of history.
        start = first
        while start <= last:
            end = min(last, start + timedelta(days=30))
            figures = figures_by_day(start, end)
            with transaction.atomic():
                Rollup.objects.filter(day__gte=start, day__lte=end).delete()
                Rollup.objects.bulk_create(
                    (
                        Rollup(
                            day=day,
                            dimension=dimension,
                            key=key,
                            figures={k: v for k, v in values.items() if not k.startswith("h:")},
                            histograms={k: v for k, v in values.items() if k.startswith("h:")},
                        )
                        for (day, dimension, key), values in figures.items()
                    ),
                    batch_size=1000,
                )
            written += len(figures)
            if progress is not None:
                progress((end - start).days + 1)
            start = end + timedelta(days=1)
    return written


def _fact_days(fact: CaseFact) -> set[date]:
    moments = (fact.created_at, fact.first_response_at, fact.resolved_at)
    return {local_day(moment) for moment in moments if moment is not None}


def _record_days(case_ids: list[int]) -> set[date]:
    """The days these cases' other records count on: SLA targets, complaint, follow-up,
    survey."""
    days: set[date] = set()
    moments: list[datetime | None] = []
    for met_at, due_at in SlaClock.objects.filter(case_id__in=case_ids).values_list(
        "met_at", "due_at"
    ):
        moments.append(met_at or due_at)
    for row in Complaint.objects.filter(case_id__in=case_ids).values_list(
        "received_at", "decided_at", "closed_at"
    ):
        moments.extend(row)
    moments.extend(
        FollowUp.objects.filter(case_id__in=case_ids).values_list("resolved_at", flat=True)
    )
    for survey_row in Survey.objects.filter(case_id__in=case_ids).values_list(
        "send_at", "answered_at"
    ):
        moments.extend(survey_row)
    for moment in moments:
        if moment is not None:
            days.add(local_day(moment))
    return days


def facts_refresh(case_ids: Iterable[int]) -> set[date]:
    """Replay these cases' facts; the days they counted on before and count on now."""
    ids = sorted(set(case_ids))
    days: set[date] = set()
    for start in range(0, len(ids), EVENT_BATCH):
        part = ids[start : start + EVENT_BATCH]
        kept = CaseFact.objects.in_bulk(part)
        fresh = facts_replay(part)
        days |= _record_days(part)
        for fact in kept.values():
            days |= _fact_days(fact)
        changed = [
            fact
            for fact in fresh
            if fact.case_id not in kept or fact_values(kept[fact.case_id]) != fact_values(fact)
        ]
        for fact in fresh:
            days |= _fact_days(fact)
        with transaction.atomic():
            CaseFact.objects.filter(pk__in=[fact.case_id for fact in changed]).delete()
            CaseFact.objects.bulk_create(changed, batch_size=1000)
    return days


def _state() -> RollupState:
    state = RollupState.objects.select_for_update().order_by("pk").first()
    return state or RollupState.objects.create()


def rollups_refresh() -> dict[str, int]:
    """Fold the case events that arrived since the last refresh into facts and rollups."""
    now = timezone.now()
    with transaction.atomic():
        state = _state()
        start_event = state.last_event_id
        last_event = (
            CaseEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or start_event
        )
        # Every new event's case: the fact events move facts, and complaint steps, follow-up
        # calls and survey answers move the case's other records; a complaint changed without
        # an event (an extension approved) says when it changed.
        case_ids = set(
            CaseEvent.objects.filter(pk__gt=start_event, pk__lte=last_event)
            .values_list("case_id", flat=True)
            .distinct()
        )
        if state.refreshed_at is not None:
            case_ids |= set(
                Complaint.objects.filter(updated_at__gte=state.refreshed_at).values_list(
                    "case_id", flat=True
                )
            )
        days = facts_refresh(case_ids)
        seen = state.dialogues_seen_at
        dialogues = (
            Dialogue.objects.all()
            if seen is None
            else Dialogue.objects.filter(updated_at__gte=seen)
        )
        days |= {local_day(moment) for moment in dialogues.values_list("created_at", flat=True)}
        today = local_day(now)
        days |= {today - timedelta(days=1), today, today + timedelta(days=1)}
        rows = days_recompute(days)
        state.last_event_id = last_event
        state.dialogues_seen_at = now
        state.refreshed_at = now
        state.save()
    return {"cases": len(case_ids), "days": len(days), "rows": rows}


def rollups_rebuild(*, progress: Callable[[str, int, int], None] | None = None) -> dict[str, int]:
    """Facts and rollups made again from the events and records alone."""
    now = timezone.now()
    with transaction.atomic():
        state = _state()
        last_event = CaseEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        ids = list(Case.objects.order_by("pk").values_list("pk", flat=True))
        CaseFact.objects.all().delete()
        for start in range(0, len(ids), EVENT_BATCH):
            part = ids[start : start + EVENT_BATCH]
            CaseFact.objects.bulk_create(facts_replay(part), batch_size=1000)
            if progress is not None:
                progress("facts", min(start + EVENT_BATCH, len(ids)), len(ids))
        Rollup.objects.all().delete()
        days = _history_days(now)
        total = len(days)
        done = 0

        def step(count: int) -> None:
            nonlocal done
            done += count
            if progress is not None:
                progress("days", done, total)

        rows = days_recompute(days, progress=step)
        state.last_event_id = last_event
        state.dialogues_seen_at = now
        state.refreshed_at = state.rebuilt_at = now
        state.save()
    return {"cases": len(ids), "days": total, "rows": rows}


def _history_days(now: datetime) -> list[date]:
    """Every day from the first record to tomorrow."""
    firsts = [
        CaseFact.objects.order_by("created_at").values_list("created_at", flat=True).first(),
        Dialogue.objects.order_by("created_at").values_list("created_at", flat=True).first(),
    ]
    known = [moment for moment in firsts if moment is not None]
    today = local_day(now)
    first = min((local_day(moment) for moment in known), default=today)
    return [first + timedelta(days=n) for n in range((today - first).days + 2)]


def rollups_snapshot() -> dict[tuple[date, str, str], Figures]:
    """Every rollup as it is kept, to compare with a rebuild."""
    return {
        (row.day, row.dimension, row.key): row.figures | row.histograms
        for row in Rollup.objects.order_by("day", "dimension", "key")
    }
