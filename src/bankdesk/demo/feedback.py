"""The demo bank's follow-ups and surveys: a year of them behind the generated cases, with
rates that improve over the year (so the indicators and the quarterly evaluation have a trend
to show), and today's calls waiting in the queue.

The history is written in bulk, as the cases were; today's through the services, then moved to
the times their story happened.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from typing import NamedTuple

from django.db import transaction
from django.utils import timezone

from bankdesk.customers.models import Customer
from bankdesk.feedback.choices import (
    AttemptOutcome,
    FollowUpStatus,
    ResponseSource,
    SkipReason,
    SurveyStatus,
    Verdict,
)
from bankdesk.feedback.followups import COMPLAINT_DUE_HOURS
from bankdesk.feedback.models import (
    FollowUp,
    FollowUpAttempt,
    Survey,
    SurveyResponse,
    SurveyTemplate,
)
from bankdesk.feedback.surveys import survey_template_active
from bankdesk.lib.channels import Channel
from bankdesk.lib.quiet_hours import QuietHours, survey_quiet_hours
from bankdesk.sla.clocks import case_calendar
from bankdesk.tickets.choices import CaseStatus
from bankdesk.tickets.models import Case

BATCH = 2000
YEAR = timedelta(days=365)
# Answers customers leave, by how the case went.
HAPPY = ["处理很及时，谢谢", "客服态度很好", "Quick and helpful, thank you", "问题一次就解决了"]
UNHAPPY = ["等待时间太长", "需要多次说明情况", "The answer came too late", "希望能早点回电话"]


def _progress(moment: datetime, now: datetime) -> float:
    """0 a year ago, 1 now: how far the service centre has come."""
    return min(max(1 - (now - moment) / YEAR, 0.0), 1.0)


def _csat(rng: random.Random, progress: float) -> int:
    satisfied = 0.70 + 0.14 * progress  # 70 % → 84 % give 4 or 5
    if rng.random() < satisfied:
        return 5 if rng.random() < 0.55 else 4
    return rng.choice([1, 2, 3, 3])


def _nps(rng: random.Random, csat: int) -> int:
    if csat == 5:
        return rng.choice([8, 9, 9, 10, 10])
    if csat == 4:
        return rng.choice([7, 8, 8, 9])
    return rng.choice([0, 3, 5, 6, 6])


_COLUMNS = (
    *("id", "customer_id", "assignee_id", "team_id", "channel", "category_id"),
    *("is_complaint", "resolved_at", "language"),
)


class _Resolved(NamedTuple):
    case_id: int
    customer_id: int | None
    agent_id: int | None
    team_id: int | None
    channel: str
    category_id: int | None
    is_complaint: bool
    resolved_at: datetime
    language: str


def _resolved_history(now: datetime) -> Iterator[list[_Resolved]]:
    rows = (
        Case.objects.filter(
            status__in=[CaseStatus.RESOLVED, CaseStatus.CLOSED],
            resolved_at__isnull=False,
            resolved_at__lte=now - timedelta(days=2),
            follow_up__isnull=True,
        )
        .order_by("id")
        .values_list(*_COLUMNS)
    )
    batch: list[_Resolved] = []
    for row in rows.iterator(chunk_size=BATCH):
        batch.append(_Resolved(*row))
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def demo_feedback_history(*, seed: int, now: datetime | None = None) -> tuple[int, int]:
    """Follow-ups and surveys for the generated cases resolved before the last two days;
    returns (follow-ups, survey answers) added."""
    now = now or timezone.now()
    template = survey_template_active()
    if template is None:
        return 0, 0
    rng = random.Random(seed)
    quiet = survey_quiet_hours()
    follow_ups = answers = 0
    for batch in _resolved_history(now):
        with transaction.atomic():
            planned = [_planned(rng, row, now, quiet, template) for row in batch]
            FollowUp.objects.bulk_create([p[0] for p in planned])
            Survey.objects.bulk_create([p[1] for p in planned])
            responses = [p[2] for p in planned if p[2] is not None]
            for response in responses:
                response.survey_id = response.survey.pk
            SurveyResponse.objects.bulk_create(responses)
        follow_ups += len(planned)
        answers += len(responses)
    return follow_ups, answers


def _planned(
    rng: random.Random, row: _Resolved, now: datetime, quiet: QuietHours, template: SurveyTemplate
) -> tuple[FollowUp, Survey, SurveyResponse | None]:
    case_id, customer_id, agent_id, team_id, channel, category_id, complaint, resolved, lang = row
    progress = _progress(resolved, now)
    due = resolved + timedelta(hours=8 if complaint else 24 * 3)
    called = resolved + timedelta(hours=rng.uniform(2, 30))
    done = rng.random() < 0.64 + 0.24 * progress  # 64 % → 88 % reached with a verdict
    if done:
        status = FollowUpStatus.DONE
    else:
        status = FollowUpStatus.UNREACHABLE if rng.random() < 0.7 else FollowUpStatus.REFUSED
    csat = _csat(rng, progress)
    verdict = ""
    if status == FollowUpStatus.DONE:
        verdict = (
            Verdict.SATISFIED
            if csat >= 4
            else Verdict.NEUTRAL
            if csat == 3
            else Verdict.UNSATISFIED
        )
    follow_up = FollowUp(
        case_id=case_id,
        customer_id=customer_id,
        status=status,
        resolved_at=resolved,
        due_at=due,
        next_attempt_at=called,
        attempts=1 if done else rng.choice([1, 3, 4]),
        agent_id=agent_id,
        team_id=team_id,
        owner_id=agent_id,
        channel=channel,
        category_id=category_id,
        is_complaint=bool(complaint),
        verdict=verdict,
        completed_at=called,
        completed_by_id=agent_id,
        created_at=resolved,
    )
    survey = Survey(
        case_id=case_id,
        customer_id=customer_id,
        template=template,
        language=lang,
        created_at=resolved,
        agent_id=agent_id,
        team_id=team_id,
        channel=channel,
        category_id=category_id,
    )
    if customer_id is None:
        survey.status, survey.skip_reason = SurveyStatus.SKIPPED, SkipReason.NO_CUSTOMER
        return follow_up, survey, None
    if rng.random() < 0.18:
        survey.status, survey.skip_reason = SurveyStatus.SKIPPED, SkipReason.RECENTLY_SURVEYED
        return follow_up, survey, None
    survey.sent_by = rng.choice([Channel.EMAIL, Channel.SMS, Channel.SMS, Channel.WECHAT])
    survey.send_at = quiet.next_allowed(resolved)
    survey.expires_at = survey.send_at + timedelta(days=7)
    survey.status = SurveyStatus.SCHEDULED
    answered_by_link = rng.random() < 0.26 + 0.16 * progress  # 26 % → 42 % answer the link
    answered_on_call = not answered_by_link and done and rng.random() < 0.5
    if not (answered_by_link or answered_on_call):
        return follow_up, survey, None
    at = survey.send_at + timedelta(hours=rng.uniform(0.2, 40)) if answered_by_link else called
    nps = _nps(rng, csat) if rng.random() < 0.8 else None
    given: dict[str, object] = {"csat": csat}
    if nps is not None:
        given["nps"] = nps
    if answered_by_link and rng.random() < 0.3:
        given["comment"] = rng.choice(HAPPY if csat >= 4 else UNHAPPY)
    survey.status, survey.answered_at = SurveyStatus.ANSWERED, at
    response = SurveyResponse(
        survey=survey,
        source=ResponseSource.LINK if answered_by_link else ResponseSource.CALL,
        answered_at=at,
        csat=csat,
        nps=nps,
        answers=json.dumps(given, ensure_ascii=False),
        recorded_by_id=None if answered_by_link else agent_id,
    )
    return follow_up, survey, response


def demo_feedback_retimed(case: Case) -> None:
    """Today's follow-up and survey of a case whose story was moved back in time: planned at
    the moment it was resolved, due on its calendar from then."""
    case.refresh_from_db()
    resolved = (
        case.events.filter(kind="status_changed", data__to=CaseStatus.RESOLVED)
        .order_by("-id")
        .values_list("created_at", flat=True)
        .first()
    )
    if resolved is None:
        return
    Case.objects.filter(pk=case.pk).update(resolved_at=resolved)
    follow_up = FollowUp.objects.filter(case=case).select_related("rule").first()
    if follow_up is not None:
        hours = follow_up.rule.due_hours if follow_up.rule else COMPLAINT_DUE_HOURS
        FollowUp.objects.filter(pk=follow_up.pk, attempts=0).update(next_attempt_at=resolved)
        FollowUp.objects.filter(pk=follow_up.pk).update(
            resolved_at=resolved,
            created_at=resolved,
            due_at=case_calendar(case).add_business_minutes(resolved, hours * 60),
        )
    if case.customer_id is not None:
        # Customers say when they like to be called: evenings for some, mornings for others.
        start, end = (time(18), time(20, 30)) if case.customer_id % 2 else (time(9), time(12))
        Customer.objects.filter(pk=case.customer_id, contact_from__isnull=True).update(
            contact_from=start, contact_until=end
        )
    send_at = survey_quiet_hours().next_allowed(resolved)
    Survey.objects.filter(case=case).update(
        created_at=resolved, send_at=send_at, expires_at=send_at + timedelta(days=7)
    )


def demo_no_answer(case: Case, agent: object, call_back_in: timedelta) -> None:
    """An agent called and found nobody; the customer's next try is set."""
    from bankdesk.feedback.followups import CallResult, follow_up_call_record

    follow_up = FollowUp.objects.get(case=case)
    follow_up_call_record(
        follow_up=follow_up,
        result=CallResult(
            outcome=AttemptOutcome.CALL_BACK,
            note="客户正在开会，约定稍后回拨",
            call_back_at=timezone.now() + call_back_in,
        ),
        actor=agent,  # type: ignore[arg-type]
    )
    FollowUpAttempt.objects.filter(follow_up=follow_up).update(
        at=timezone.now() - timedelta(minutes=40)
    )
