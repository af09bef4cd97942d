"""A service centre's autumn, told through the services at set moments (Shanghai time), with
the edge cases the indicators must get right: a complaint received before the National Day
holiday and closed after it, a case reopened and resolved again, a case merged into another,
a survey answered in the quarter after its case was resolved, a case still open.

The hand counts for 2026Q4 (1 October – 31 December; the clock stands at 10 November, 10:00):

- holiday: created 30 Sep 16:00, first reply 16:30; a complaint, decided 8 Oct 10:00 and
  closed (the case resolved with it) 8 Oct 11:00;
- reopened: created 12 Oct 09:00, reply 09:30, resolved 10:00; reopened 13 Oct 09:00 and
  resolved again 11:00;
- quick: created 13 Oct 14:00, reply 14:10, resolved 14:20; its follow-up call done and its
  survey answered 13 Oct 15:00 (CSAT 2, NPS 5);
- merged: created 13 Oct 15:00, merged into quick at 15:05: counted nowhere;
- late: created, answered and resolved 29 Sep; its survey answered 9 Oct (CSAT 5, NPS 10);
- waiting: created 2 Nov 10:00, not answered yet: the backlog;
- two dialogues with the assistant on 20 Oct, one handed to a person.

On the mainland calendar (9:00–17:00 on working days; 1–7 October a holiday):
- holiday: resolved after 7 d 19 h = 11,220 minutes, 60 + 120 = 180 business minutes;
  decided after 7 d 18 h = 11,160 minutes; closed after more than 24 hours.
- reopened: first reply 30 minutes; resolved (for the last time) after 26 h = 1,560 minutes,
  480 + 120 = 600 business minutes.
- quick: first reply 10 minutes; resolved after 20 minutes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import pytest
import time_machine

from bankdesk.assistant.choices import DialogueStatus
from bankdesk.assistant.models import Dialogue
from bankdesk.complaints.models import Complaint
from bankdesk.complaints.services import (
    complaint_acknowledge,
    complaint_close,
    complaint_decide,
    complaint_investigate,
    complaint_owner_set,
)
from bankdesk.feedback.followups import CallResult, follow_up_call_record
from bankdesk.feedback.models import FollowUp, Survey
from bankdesk.feedback.surveys import survey_answer, survey_link_token
from bankdesk.tickets.choices import CaseStatus, Direction
from bankdesk.tickets.models import Case
from bankdesk.tickets.services import (
    case_create,
    case_merge,
    case_message_add,
    case_status_change,
)

NOW = "2026-11-10T10:00"


def at(text: str) -> time_machine.travel:
    return time_machine.travel(datetime.fromisoformat(f"{text}:00+08:00"), tick=False)


@dataclass
class Autumn:
    cases: dict[str, Case]
    agent: object
    officer: object


def _open(subject: str, customer, agent, team, **fields) -> Case:
    return case_create(
        subject=subject,
        channel=fields.pop("channel", "email"),
        actor=None,
        customer=customer,
        text="请帮我看看这个问题",
        team=team,
        assignee=agent,
        **fields,
    )


def _reply(case: Case, agent) -> Case:
    case = Case.objects.get(pk=case.pk)
    if case.status == CaseStatus.NEW:
        case = case_status_change(case=case, status=CaseStatus.OPEN, actor=agent)
    case_message_add(
        case=case, direction=Direction.OUTBOUND, text="您好，已为您处理。", actor=agent
    )
    return Case.objects.get(pk=case.pk)


def _resolve(case: Case, agent) -> Case:
    case = Case.objects.get(pk=case.pk)
    return case_status_change(case=case, status=CaseStatus.RESOLVED, actor=agent)


@pytest.fixture
def autumn_told(
    migrated_data, settings, customer, categories, make_staff, general_team, complaint_team
) -> Autumn:
    """The story, told; the clock runs on afterwards (for a browser's server)."""
    settings.BANKDESK_SURVEY_PERIOD_DAYS = 0  # every case surveyed, for the count
    settings.BANKDESK_SURVEY_LINK_DAYS = 30  # the late answer comes ten days on
    agent = make_staff("autumn_agent", teams=[general_team])
    officer = make_staff("autumn_officer", role="complaint_officer", teams=[complaint_team])
    cases: dict[str, Case] = {}
    with at("2026-09-29T10:00"):
        cases["late"] = _open("网银登录", customer, agent, general_team)
    with at("2026-09-29T10:05"):
        _reply(cases["late"], agent)
    with at("2026-09-29T10:30"):
        _resolve(cases["late"], agent)
    with at("2026-09-30T16:00"):
        cases["holiday"] = _open(
            "年费重复扣收", customer, officer, complaint_team, category=categories["complaint_fees"]
        )
        complaint = Complaint.objects.get(case=cases["holiday"])
        complaint_owner_set(complaint=complaint, owner=officer, actor=officer)
        complaint_acknowledge(complaint=complaint, actor=officer)
    with at("2026-09-30T16:30"):
        _reply(cases["holiday"], officer)
        complaint_investigate(complaint=Complaint.objects.get(pk=complaint.pk), actor=officer)
    with at("2026-10-08T10:00"):
        complaint_decide(
            complaint=Complaint.objects.get(pk=complaint.pk),
            decision="重复扣收属实",
            remedy="退还年费",
            actor=officer,
        )
    with at("2026-10-08T11:00"):
        complaint_close(complaint=Complaint.objects.get(pk=complaint.pk), actor=officer)
    with at("2026-10-09T10:00"):
        late = Survey.objects.get(case=cases["late"])
        survey_answer(token=survey_link_token(late), given={"csat": 5, "nps": 10})
    with at("2026-10-12T09:00"):
        cases["reopened"] = _open("转账失败", customer, agent, general_team)
    with at("2026-10-12T09:30"):
        _reply(cases["reopened"], agent)
    with at("2026-10-12T10:00"):
        _resolve(cases["reopened"], agent)
    with at("2026-10-13T09:00"):
        case_status_change(
            case=Case.objects.get(pk=cases["reopened"].pk), status=CaseStatus.OPEN, actor=agent
        )
    with at("2026-10-13T11:00"):
        _resolve(cases["reopened"], agent)
    with at("2026-10-13T14:00"):
        cases["quick"] = _open("挂失补卡", customer, agent, general_team)
    with at("2026-10-13T14:10"):
        _reply(cases["quick"], agent)
    with at("2026-10-13T14:20"):
        _resolve(cases["quick"], agent)
    with at("2026-10-13T15:00"):
        cases["merged"] = _open("挂失补卡（重复）", customer, agent, general_team)
        quick = Survey.objects.get(case=cases["quick"])
        survey_answer(token=survey_link_token(quick), given={"csat": 2, "nps": 5})
        follow_up_call_record(
            follow_up=FollowUp.objects.get(case=cases["quick"]),
            result=CallResult(outcome="reached", verdict="satisfied"),
            actor=agent,
        )
    with at("2026-10-13T15:05"):
        case_merge(
            source=Case.objects.get(pk=cases["merged"].pk),
            target=Case.objects.get(pk=cases["quick"].pk),
            actor=agent,
        )
    with at("2026-10-20T10:00"):
        Dialogue.objects.create(channel="web_chat", language="zh-hans")
        Dialogue.objects.create(
            channel="web_chat", language="zh-hans", status=DialogueStatus.HANDED_OFF
        )
    with at("2026-11-02T10:00"):
        cases["waiting"] = _open("信用卡额度", customer, agent, general_team)
    return Autumn(cases, agent, officer)


@pytest.fixture
def autumn(autumn_told: Autumn) -> Iterator[Autumn]:
    """The story, with the clock stopped at 10 November, 10:00."""
    with at(NOW):
        yield autumn_told
