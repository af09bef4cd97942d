"""SLA API: business-time deadlines, policies, a case's clocks and supervisors' alerts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema, Status
from pydantic import Field, StringConstraints

from bankdesk.customers.choices import Tier
from bankdesk.lib.api import AwareDatetime, Id, RequiredText, error_responses
from bankdesk.lib.channels import Channel
from bankdesk.lib.errors import NotFound
from bankdesk.sla.choices import EscalationAction, Metric, Threshold, TimeBasis
from bankdesk.sla.errors import CalendarNotFound
from bankdesk.sla.models import SlaAlert, SlaClock, SlaPolicy
from bankdesk.sla.schemas import ClockDetailOut
from bankdesk.sla.selectors import (
    calendar_deadline,
    calendar_get,
    calendar_list,
    case_clocks,
    clock_out,
    policy_list,
)
from bankdesk.sla.services import EscalationSpec, TargetSpec, sla_policy_create
from bankdesk.staff.auth import request_staff, require_perm
from bankdesk.tickets.access import access_case_by_id
from bankdesk.tickets.choices import CaseStatus, Priority
from bankdesk.tickets.lookups import category_by_id, team_by_id

router = Router(tags=["sla"])

CalendarCode = Annotated[str, StringConstraints(max_length=60, pattern=r"^[-a-zA-Z0-9_]+$")]


class DeadlineQuery(Schema):
    start: AwareDatetime
    minutes: int = Field(ge=0, le=10_000_000)


class DeadlineOut(Schema):
    deadline: str
    is_provisional: bool = Field(
        description=(
            "The deadline reaches past the calendar's published holidays (known_until): there "
            "it counts weekends only, until the year's official notice is loaded"
        )
    )
    known_until: date | None = Field(
        description="The last date the calendar's holidays are published for; empty: no horizon"
    )


@router.get(
    "/calendars/{code}/deadline",
    response={200: DeadlineOut, **error_responses(404)},
    summary="The moment N business minutes after start on a calendar, in its time zone",
)
def calendar_deadline_get(
    request: HttpRequest, code: CalendarCode, query: Query[DeadlineQuery]
) -> dict[str, Any]:
    deadline = calendar_deadline(code=code, start=query.start, minutes=query.minutes)
    return {
        "deadline": deadline.moment.isoformat(),
        "is_provisional": deadline.is_provisional,
        "known_until": deadline.known_until,
    }


class CalendarOut(Schema):
    code: str
    name: str
    time_zone: str
    is_24x7: bool
    known_until: date | None = Field(
        description="The last date its holidays are published for; empty: no horizon"
    )


@router.get(
    "/calendars",
    response={200: list[CalendarOut], **error_responses()},
    summary="Business calendars and how far their holidays are known",
)
def calendar_list_get(request: HttpRequest) -> list[dict[str, Any]]:
    return [
        {
            "code": calendar.code,
            "name": calendar.name,
            "time_zone": calendar.time_zone,
            "is_24x7": calendar.is_24x7,
            "known_until": calendar.known_until,
        }
        for calendar in calendar_list()
    ]


# -- policies -----------------------------------------------------------------------------------


class EscalationIn(Schema):
    threshold: Threshold
    action: EscalationAction
    team_id: Id | None = Field(default=None, description="For reassign_team")
    priority: Priority | None = Field(default=None, description="For raise_priority: at least")


class TargetIn(Schema):
    name: RequiredText(120)  # type: ignore[valid-type]
    metric: Metric
    minutes: int = Field(ge=1, le=5_256_000)
    basis: TimeBasis = TimeBasis.BUSINESS
    warning_percent: int | None = Field(default=None, ge=1, le=99)
    escalations: list[EscalationIn] = Field(default_factory=list, max_length=10)


class PolicyIn(Schema):
    code: Annotated[str, StringConstraints(min_length=1, max_length=60, pattern=r"^[-a-z0-9_]+$")]
    name: RequiredText(120)  # type: ignore[valid-type]
    position: int = Field(default=100, ge=0, le=1_000_000)
    category_ids: list[Id] = Field(default_factory=list, max_length=50)
    priorities: list[Priority] = Field(default_factory=list, max_length=4)
    channels: list[Channel] = Field(default_factory=list, max_length=20)
    customer_tiers: list[Tier] = Field(default_factory=list, max_length=10)
    is_complaint: bool | None = None
    pause_statuses: list[CaseStatus] = Field(default_factory=list, max_length=2)
    calendar: CalendarCode | None = Field(default=None, description="Code; empty: team's")
    targets: list[TargetIn] = Field(min_length=1, max_length=10)


class EscalationOut(Schema):
    threshold: str
    action: str
    team_id: int | None
    priority: str


class TargetOut(Schema):
    id: int
    name: str
    metric: str
    minutes: int
    basis: str
    warning_percent: int | None
    extensions: list[int] = Field(description="Longer limits each extension may give (minutes)")
    escalations: list[EscalationOut]


class PolicyOut(Schema):
    id: int
    code: str
    name: str
    position: int
    is_active: bool
    category_ids: list[int]
    priorities: list[str]
    channels: list[str]
    customer_tiers: list[str]
    is_complaint: bool | None
    pause_statuses: list[str]
    calendar: str | None
    regulator: str = Field(description="A regulator's code for a statutory policy; empty: own")
    targets: list[TargetOut]


def _policy_out(policy: SlaPolicy) -> dict[str, Any]:
    return {
        "id": policy.pk,
        "code": policy.code,
        "name": policy.name,
        "position": policy.position,
        "is_active": policy.is_active,
        "category_ids": sorted(category.pk for category in policy.categories.all()),
        "priorities": policy.priorities,
        "channels": policy.channels,
        "customer_tiers": policy.customer_tiers,
        "is_complaint": policy.is_complaint,
        "pause_statuses": policy.pause_statuses,
        "calendar": policy.calendar.code if policy.calendar else None,
        "regulator": policy.regulator,
        "targets": [
            {
                "id": target.pk,
                "name": target.name,
                "metric": target.metric,
                "minutes": target.minutes,
                "basis": target.basis,
                "warning_percent": target.warning_percent,
                "extensions": target.extensions,
                "escalations": [
                    {
                        "threshold": e.threshold,
                        "action": e.action,
                        "team_id": e.team_id,
                        "priority": e.priority,
                    }
                    for e in target.escalations.all()
                ],
            }
            for target in policy.targets.all()
        ],
    }


@router.get(
    "/policies",
    response={200: list[PolicyOut], **error_responses()},
    summary="SLA policies in the order they are tried",
)
def policy_list_get(request: HttpRequest) -> list[dict[str, Any]]:
    require_perm(request_staff(request), "sla.view_slapolicy")
    return [_policy_out(policy) for policy in policy_list()]


def _escalation(spec: EscalationIn) -> EscalationSpec:
    team = team_by_id(spec.team_id) if spec.team_id is not None else None
    return EscalationSpec(
        threshold=spec.threshold, action=spec.action, team=team, priority=spec.priority or ""
    )


@router.post(
    "/policies",
    response={201: PolicyOut, **error_responses(404, 409)},
    summary="Add an SLA policy; open cases take it up only through `bankdesk sla recompute`",
)
def policy_create(request: HttpRequest, payload: PolicyIn) -> Status[dict[str, Any]]:
    user = request_staff(request)
    require_perm(user, "sla.add_slapolicy")
    categories = [category_by_id(pk, field="category_ids") for pk in payload.category_ids]
    calendar = None
    if payload.calendar is not None:
        calendar = calendar_get(code=payload.calendar)
        if calendar is None:
            raise CalendarNotFound(f"calendar {payload.calendar} not found", field="calendar")
    policy = sla_policy_create(
        code=payload.code,
        name=payload.name,
        position=payload.position,
        categories=categories,
        priorities=[str(p) for p in payload.priorities],
        channels=[str(c) for c in payload.channels],
        customer_tiers=[str(t) for t in payload.customer_tiers],
        is_complaint=payload.is_complaint,
        pause_statuses=[str(s) for s in payload.pause_statuses],
        calendar=calendar,
        actor=user,
        targets=[
            TargetSpec(
                name=target.name,
                metric=target.metric,
                minutes=target.minutes,
                basis=target.basis,
                warning_percent=target.warning_percent,
                escalations=tuple(_escalation(e) for e in target.escalations),
            )
            for target in payload.targets
        ],
    )
    return Status(201, _policy_out(policy_list().get(pk=policy.pk)))


# -- a case's clocks ----------------------------------------------------------------------------


def _clock_detail(clock: SlaClock, now: datetime) -> dict[str, Any]:
    return {
        **clock_out(clock, now),
        "consumed_seconds": clock.consumed.total_seconds(),
        "calendar": clock.calendar.code if clock.calendar else None,
        "pause_statuses": clock.pause_statuses,
        "warn_at": clock.warn_at,
        "warned_at": clock.warned_at,
        "breached_at": clock.breached_at,
        "pauses": [
            {"started_at": p.started_at, "ended_at": p.ended_at, "status": p.status}
            for p in clock.pauses.all()
        ],
    }


@router.get(
    "/cases/{case_id}/clocks",
    response={200: list[ClockDetailOut], **error_responses(404)},
    summary="A case's SLA clocks with their terms and pause ledger",
)
def case_clock_list(request: HttpRequest, case_id: Id) -> list[dict[str, Any]]:
    case = access_case_by_id(request_staff(request), case_id)
    now = timezone.now()
    return [_clock_detail(clock, now) for clock in case_clocks(case.pk)]


# -- alerts -------------------------------------------------------------------------------------


class AlertOut(Schema):
    id: int
    case_id: int
    case_number: str
    clock: str
    threshold: str
    created_at: datetime
    read_at: datetime | None


def _alert_out(alert: SlaAlert) -> dict[str, Any]:
    return {
        "id": alert.pk,
        "case_id": alert.case_id,
        "case_number": alert.case.number,
        "clock": alert.clock.name,
        "threshold": alert.threshold,
        "created_at": alert.created_at,
        "read_at": alert.read_at,
    }


@router.get(
    "/alerts",
    response={200: list[AlertOut], **error_responses()},
    summary="My SLA alerts, newest first (the latest 100)",
)
def alert_list(request: HttpRequest, unread: bool = False) -> list[dict[str, Any]]:
    alerts = SlaAlert.objects.filter(recipient=request_staff(request))
    if unread:
        alerts = alerts.filter(read_at__isnull=True)
    return [_alert_out(a) for a in alerts.select_related("case", "clock")[:100]]


@router.post(
    "/alerts/{alert_id}/read",
    response={200: AlertOut, **error_responses(404)},
    summary="Mark one of my alerts read",
)
def alert_read(request: HttpRequest, alert_id: Id) -> dict[str, Any]:
    alert = (
        SlaAlert.objects.filter(pk=alert_id, recipient=request_staff(request))
        .select_related("case", "clock")
        .first()
    )
    if alert is None:
        raise NotFound("alert not found", field="alert_id")
    if alert.read_at is None:
        alert.read_at = timezone.now()
        alert.save(update_fields=["read_at"])
    return _alert_out(alert)
