"""Where every count comes from: each source reads one kind of record over a span of time and
says, for each record, on which day it counts, for which case, in which slices, and what it adds.

Rollups add these contributions up by day and slice; a drill-down runs the same source over the
period and keeps the records that count, so the cases behind a number are exactly those that
made it.

Each source reads one kind of record and counts on one day:

- cases (created): created, created_resolved;
- responses (the first response): first_responses(_business), h:first_response(_business);
- resolutions (the resolution that stands): resolved(_business), first_contact, reopened,
  h:resolution(_business);
- sla (a target met, else come due unmet): sla_due, sla_met, sla:<target>:due and :met;
- complaints (received, decided, closed): complaints; complaints_decided, complaints_extended,
  h:complaint_decision; complaints_closed, complaints_closed_24h, complaints_reopened;
- follow_ups (the case resolved): follow_ups, follow_ups_done;
- invitations (the survey sent): surveys_sent, surveys_answered;
- answers (answered): csat_scored, csat_satisfied, nps_answers, nps_promoters, nps_detractors;
- dialogues (begun): dialogues, dialogues_contained.

Merged cases are left out of every case count: their contact is counted on the case they were
merged into.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import NamedTuple

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from bankdesk.analytics.models import CaseFact
from bankdesk.assistant.choices import DialogueStatus
from bankdesk.assistant.models import Dialogue
from bankdesk.complaints.choices import ExtensionStatus
from bankdesk.complaints.models import Complaint, ComplaintExtension
from bankdesk.feedback.choices import FollowUpStatus, SurveyStatus
from bankdesk.feedback.models import FollowUp, Survey, SurveyResponse
from bankdesk.sla.choices import ClockStatus
from bankdesk.sla.models import SlaClock

# The slices every count is kept by, beside the whole centre.
DIMENSIONS = ("channel", "team", "agent", "category", "branch", "tier")
ALL = "all"
NONE_KEY = "-"  # no team, no agent, no category ...
WITHIN_24H = timedelta(hours=24)
CHUNK = 2000

Slices = dict[str, str]


@dataclass
class Contribution:
    day: date
    case_id: int | None
    slices: Slices
    counts: dict[str, int] = field(default_factory=dict)
    minutes: dict[str, int] = field(default_factory=dict)
    item: str = ""  # what the record is, beside its case: a target's name, a dialogue


def local_day(moment: datetime) -> date:
    return timezone.localtime(moment).date()


def _key(value: object) -> str:
    return NONE_KEY if value is None or value == "" else str(value)


class FactRow(NamedTuple):
    """A case's fact as the sources read it: plain values (a year is a million of them)."""

    case_id: int
    created_at: datetime
    channel: str
    team_id: int | None
    agent_id: int | None
    category_id: int | None
    branch_id: int | None
    tier: str
    merged: bool
    first_response_at: datetime | None
    first_response_minutes: int | None
    first_response_business_minutes: int | None
    resolved_at: datetime | None
    resolution_minutes: int | None
    resolution_business_minutes: int | None
    reopened: int
    first_contact: bool


def fact_rows(facts: QuerySet[CaseFact]) -> Iterator[FactRow]:
    for row in facts.values_list(*FactRow._fields).iterator(chunk_size=CHUNK):
        yield FactRow(*row)


def fact_slices(fact: FactRow) -> Slices:
    return {
        "channel": _key(fact.channel),
        "team": _key(fact.team_id),
        "agent": _key(fact.agent_id),
        "category": _key(fact.category_id),
        "branch": _key(fact.branch_id),
        "tier": _key(fact.tier),
    }


def _snapshot_slices(record: FollowUp | Survey, fact: FactRow | None) -> Slices:
    """Follow-ups and surveys count where the work was done: the agent, team, channel and
    category kept when the case was resolved; branch and tier come from the case's fact."""
    return {
        "channel": _key(record.channel),
        "team": _key(record.team_id),
        "agent": _key(record.agent_id),
        "category": _key(record.category_id),
        "branch": _key(fact.branch_id if fact else None),
        "tier": _key(fact.tier if fact else None),
    }


def _facts_of(case_ids: Iterable[int]) -> dict[int, FactRow]:
    ids = sorted(set(case_ids))
    facts: dict[int, FactRow] = {}
    for start in range(0, len(ids), CHUNK):
        part = CaseFact.objects.filter(case_id__in=ids[start : start + CHUNK])
        facts.update((fact.case_id, fact) for fact in fact_rows(part))
    return facts


def cases(since: datetime, until: datetime) -> Iterator[Contribution]:
    for fact in fact_rows(
        CaseFact.objects.filter(created_at__gte=since, created_at__lt=until, merged=False)
    ):
        counts = {"created": 1, "created_resolved": int(fact.resolved_at is not None)}
        yield Contribution(local_day(fact.created_at), fact.case_id, fact_slices(fact), counts)


def responses(since: datetime, until: datetime) -> Iterator[Contribution]:
    for fact in fact_rows(
        CaseFact.objects.filter(
            first_response_at__gte=since, first_response_at__lt=until, merged=False
        )
    ):
        assert fact.first_response_at is not None and fact.first_response_minutes is not None
        minutes = {"first_response": fact.first_response_minutes}
        counts = {"first_responses": 1}
        if fact.first_response_business_minutes is not None:
            minutes["first_response_business"] = fact.first_response_business_minutes
            counts["first_responses_business"] = 1
        yield Contribution(
            local_day(fact.first_response_at), fact.case_id, fact_slices(fact), counts, minutes
        )


def resolutions(since: datetime, until: datetime) -> Iterator[Contribution]:
    for fact in fact_rows(
        CaseFact.objects.filter(resolved_at__gte=since, resolved_at__lt=until, merged=False)
    ):
        assert fact.resolved_at is not None and fact.resolution_minutes is not None
        minutes = {"resolution": fact.resolution_minutes}
        counts = {
            "resolved": 1,
            "first_contact": int(fact.first_contact),
            "reopened": int(fact.reopened > 0),
        }
        if fact.resolution_business_minutes is not None:
            minutes["resolution_business"] = fact.resolution_business_minutes
            counts["resolved_business"] = 1
        yield Contribution(
            local_day(fact.resolved_at), fact.case_id, fact_slices(fact), counts, minutes
        )


def sla(since: datetime, until: datetime) -> Iterator[Contribution]:
    """A target counts once it is met (on the day it was met; in time if not after its due
    time) or once its due time has passed unmet (on the day it came due)."""
    now = timezone.now()
    met = Q(met_at__gte=since, met_at__lt=until)
    overdue = Q(met_at=None, due_at__gte=since, due_at__lt=min(until, now))
    clocks = (
        SlaClock.objects.filter(met | overdue)
        .exclude(status=ClockStatus.CANCELLED)
        .select_related("target__policy")
        .order_by("pk")
    )
    batch: list[SlaClock] = []
    for clock in clocks.iterator(chunk_size=CHUNK):
        batch.append(clock)
        if len(batch) == CHUNK:
            yield from _clock_contributions(batch)
            batch = []
    yield from _clock_contributions(batch)


def _clock_contributions(clocks: list[SlaClock]) -> Iterator[Contribution]:
    facts = _facts_of(clock.case_id for clock in clocks)
    for clock in clocks:
        fact = facts.get(clock.case_id)
        if fact is None or fact.merged:
            continue
        moment = clock.met_at or clock.due_at
        assert moment is not None
        in_time = clock.met_at is not None and (
            clock.due_at is None or clock.met_at <= clock.due_at
        )
        target = f"sla:{clock.target_id}"
        yield Contribution(
            local_day(moment),
            clock.case_id,
            fact_slices(fact),
            {
                "sla_due": 1,
                "sla_met": int(in_time),
                f"{target}:due": 1,
                f"{target}:met": int(in_time),
            },
            item=f"{clock.target.policy.name} · {clock.name}",
        )


def complaints(since: datetime, until: datetime) -> Iterator[Contribution]:
    received = Q(received_at__gte=since, received_at__lt=until)
    decided = Q(decided_at__gte=since, decided_at__lt=until)
    closed = Q(closed_at__gte=since, closed_at__lt=until)
    extended = ComplaintExtension.objects.filter(
        complaint=OuterRef("pk"), status=ExtensionStatus.APPROVED
    )
    rows = list(
        Complaint.objects.filter(received | decided | closed)
        .annotate(extended=Exists(extended))
        .values("case_id", "received_at", "decided_at", "closed_at", "reopened", "extended")
        .order_by("pk")
    )
    facts = _facts_of(row["case_id"] for row in rows)
    for row in rows:
        fact = facts.get(row["case_id"])
        if fact is None or fact.merged:
            continue
        slices = fact_slices(fact)
        received_at, decided_at, closed_at = row["received_at"], row["decided_at"], row["closed_at"]
        if since <= received_at < until:
            yield Contribution(local_day(received_at), fact.case_id, slices, {"complaints": 1})
        if decided_at is not None and since <= decided_at < until:
            yield Contribution(
                local_day(decided_at),
                fact.case_id,
                slices,
                {"complaints_decided": 1, "complaints_extended": int(row["extended"])},
                {
                    "complaint_decision": max(
                        0, int((decided_at - received_at).total_seconds() // 60)
                    )
                },
            )
        if closed_at is not None and since <= closed_at < until:
            counts = {
                "complaints_closed": 1,
                "complaints_closed_24h": int(closed_at - received_at <= WITHIN_24H),
                "complaints_reopened": int(row["reopened"] > 0),
            }
            yield Contribution(local_day(closed_at), fact.case_id, slices, counts)


def follow_ups(since: datetime, until: datetime) -> Iterator[Contribution]:
    rows = list(
        FollowUp.objects.filter(resolved_at__gte=since, resolved_at__lt=until).order_by("pk")
    )
    facts = _facts_of(row.case_id for row in rows)
    for row in rows:
        fact = facts.get(row.case_id)
        if fact is not None and fact.merged:
            continue
        counts = {"follow_ups": 1, "follow_ups_done": int(row.status == FollowUpStatus.DONE)}
        yield Contribution(
            local_day(row.resolved_at), row.case_id, _snapshot_slices(row, fact), counts
        )


def invitations(since: datetime, until: datetime) -> Iterator[Contribution]:
    rows = list(
        Survey.objects.filter(send_at__gte=since, send_at__lt=until)
        .exclude(sent_by="")
        .order_by("pk")
    )
    facts = _facts_of(row.case_id for row in rows)
    for row in rows:
        assert row.send_at is not None
        counts = {"surveys_sent": 1, "surveys_answered": int(row.status == SurveyStatus.ANSWERED)}
        yield Contribution(
            local_day(row.send_at),
            row.case_id,
            _snapshot_slices(row, facts.get(row.case_id)),
            counts,
        )


def answers(since: datetime, until: datetime) -> Iterator[Contribution]:
    rows = list(
        SurveyResponse.objects.filter(answered_at__gte=since, answered_at__lt=until)
        .select_related("survey")
        .order_by("pk")
    )
    facts = _facts_of(row.survey.case_id for row in rows)
    for row in rows:
        counts = {
            "csat_scored": int(row.csat is not None),
            "csat_satisfied": int(row.csat is not None and row.csat >= 4),
            "nps_answers": int(row.nps is not None),
            "nps_promoters": int(row.nps is not None and row.nps >= 9),
            "nps_detractors": int(row.nps is not None and row.nps <= 6),
        }
        survey = row.survey
        yield Contribution(
            local_day(row.answered_at),
            survey.case_id,
            _snapshot_slices(survey, facts.get(survey.case_id)),
            counts,
        )


def dialogues(since: datetime, until: datetime) -> Iterator[Contribution]:
    """Dialogues with the assistant; contained: never handed to a person."""
    rows = Dialogue.objects.filter(created_at__gte=since, created_at__lt=until).values_list(
        "pk", "created_at", "channel", "status", "case_id"
    )
    for pk, created_at, channel, status, case_id in rows.order_by("pk").iterator(chunk_size=CHUNK):
        slices = dict.fromkeys(DIMENSIONS, NONE_KEY) | {"channel": _key(channel)}
        counts = {"dialogues": 1, "dialogues_contained": int(status == DialogueStatus.ASSISTANT)}
        yield Contribution(local_day(created_at), case_id, slices, counts, item=f"dialogue {pk}")


Source = Callable[[datetime, datetime], Iterator[Contribution]]
SOURCES: dict[str, Source] = {
    "cases": cases,
    "responses": responses,
    "resolutions": resolutions,
    "sla": sla,
    "complaints": complaints,
    "follow_ups": follow_ups,
    "invitations": invitations,
    "answers": answers,
    "dialogues": dialogues,
}


def contributions(since: datetime, until: datetime) -> Iterator[Contribution]:
    for source in SOURCES.values():
        yield from source(since, until)
