"""Opening, assigning, messaging, tagging and merging cases through the services."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from bankdesk.lib.errors import InvalidInput
from bankdesk.tickets.choices import CaseStatus, EventKind
from bankdesk.tickets.errors import (
    AssigneeNotInTeam,
    CaseClosed,
    DuplicateMessage,
    MergeNotAllowed,
)
from bankdesk.tickets.models import CaseEvent, Message
from bankdesk.tickets.services import (
    case_assign,
    case_create,
    case_merge,
    case_message_add,
    case_note_add,
    case_status_change,
    case_tags_set,
)

pytestmark = pytest.mark.django_db


def _kinds(case: object) -> list[str]:
    return list(CaseEvent.objects.filter(case=case).order_by("id").values_list("kind", flat=True))


def test_a_new_case_gets_a_yearly_number_its_first_message_and_events(agent, customer, categories):
    case = case_create(
        subject="信用卡年费为什么扣了两次",
        channel="wechat",
        actor=agent,
        customer=customer,
        category=categories["complaint_fees"],
        text="我的信用卡年费被扣了两次，请退还。",
    )
    year = timezone.localtime(case.created_at).year
    assert re.fullmatch(rf"C{year}\d{{7}}", case.number)
    assert case.is_complaint
    assert case.status == CaseStatus.NEW
    # A complaint from the start: opened as one, and its record's first step (complaints app).
    assert _kinds(case) == [
        EventKind.CREATED,
        EventKind.COMPLAINT_OPENED,
        EventKind.COMPLAINT_STEP,
        EventKind.MESSAGE_ADDED,
    ]
    message = Message.objects.get(case=case)
    assert message.direction == "inbound" and message.channel == "wechat"


def test_case_numbers_only_go_up(agent):
    numbers = [case_create(subject=f"s{i}", channel="phone", actor=agent).number for i in range(5)]
    assert numbers == sorted(numbers)
    assert len(set(numbers)) == 5


def test_the_first_staff_reply_is_the_first_response(agent):
    case = case_create(subject="转账未到账", channel="app", actor=agent, text="昨天的转账还没到")
    case_message_add(case=case, direction="inbound", text="还在等", actor=None)
    case.refresh_from_db()
    assert case.first_response_at is None
    reply = case_message_add(
        case=case, direction="outbound", text="您好，正在为您查询。", actor=agent
    )
    case.refresh_from_db()
    assert case.first_response_at == reply.created_at
    case_message_add(case=case, direction="outbound", text="已查到", actor=agent)
    case.refresh_from_db()
    assert case.first_response_at == reply.created_at


def test_html_is_sanitised_before_it_is_stored(agent):
    case = case_create(subject="邮件", channel="email", actor=agent)
    message = case_message_add(
        case=case,
        direction="inbound",
        text="hello",
        html='<p onclick="x()">hi<script>alert(1)</script><a href="javascript:evil()">x</a></p>',
        actor=None,
    )
    assert "script" not in message.html
    assert "onclick" not in message.html
    assert "javascript" not in message.html
    assert "<p>hi" in message.html


def test_the_same_external_message_is_taken_once(agent):
    case = case_create(subject="微信咨询", channel="wechat", actor=agent)
    case_message_add(case=case, direction="inbound", text="你好", actor=None, external_id="wx-1")
    with pytest.raises(DuplicateMessage):
        case_message_add(
            case=case, direction="inbound", text="你好", actor=None, external_id="wx-1"
        )
    assert Message.objects.filter(external_id="wx-1").count() == 1
    # The same id on another channel is another message.
    case_message_add(
        case=case, direction="inbound", text="hi", actor=None, channel="sms", external_id="wx-1"
    )


def test_a_customers_message_is_never_written_in_the_name_of_staff(agent):
    """Customers' words come in through a channel (intake); a member of staff who could write
    one could also take the id of a message still on its way and get it dropped as a copy."""
    case = case_create(subject="邮件", channel="email", actor=agent)

    with pytest.raises(InvalidInput) as refused:
        case_message_add(
            case=case, direction="inbound", text="我是客户", actor=agent, external_id="m@x.cn"
        )

    assert refused.value.field == "direction"
    assert not Message.objects.exists()
    assert _kinds(case) == [EventKind.CREATED]


def test_an_assignee_must_belong_to_the_team(agent, supervisor, complaint_team, general_team):
    case = case_create(subject="s", channel="phone", actor=supervisor)
    with pytest.raises(AssigneeNotInTeam):
        case_assign(case=case, team=complaint_team, assignee=agent, actor=supervisor)
    case = case_assign(case=case, team=general_team, assignee=agent, actor=supervisor)
    assert (case.team, case.assignee) == (general_team, agent)
    event = CaseEvent.objects.filter(case=case, kind=EventKind.ASSIGNED).latest("id")
    assert event.data["assignee_id"] == agent.pk and event.data["previous_assignee_id"] is None


def test_closed_cases_take_no_more_work(agent):
    case = case_create(subject="s", channel="phone", actor=agent)
    for status in ("open", "resolved", "closed"):
        case = case_status_change(case=case, status=status, actor=agent)
    with pytest.raises(CaseClosed):
        case_message_add(case=case, direction="outbound", text="x", actor=agent)
    with pytest.raises(CaseClosed):
        case_tags_set(case=case, tags=["vip"], actor=agent)


def test_tags_are_replaced_and_logged_only_when_they_change(agent):
    case = case_create(subject="s", channel="phone", actor=agent, tags=["vip"])
    case_tags_set(case=case, tags=["vip", " 急 "], actor=agent)
    case_tags_set(case=case, tags=["急", "vip"], actor=agent)
    assert sorted(case.tags.values_list("name", flat=True)) == ["vip", "急"]
    assert _kinds(case).count(EventKind.TAGS_CHANGED) == 2


def test_merging_moves_the_conversation_and_closes_the_source(agent, customer):
    target = case_create(
        subject="挂失", channel="phone", actor=agent, customer=customer, text="卡丢了"
    )
    source = case_create(
        subject="挂失(微信)", channel="wechat", actor=agent, customer=customer, text="我的卡丢了"
    )
    case_note_add(case=source, text="客户很着急", actor=agent)
    merged = case_merge(source=source, target=target, actor=agent, reason="duplicate")
    source.refresh_from_db()
    assert merged.pk == target.pk
    assert source.status == CaseStatus.CLOSED and source.merged_into_id == target.pk
    assert Message.objects.filter(case=target).count() == 2
    assert target.notes.count() == 1
    assert _kinds(source)[-1] == EventKind.MERGED_INTO
    assert _kinds(target)[-1] == EventKind.MERGED_FROM
    with pytest.raises(MergeNotAllowed):
        case_merge(source=source, target=target, actor=agent)


def test_cases_of_different_customers_do_not_merge(agent, customer):
    from bankdesk.customers.services import customer_create

    other = customer_create(customer_number="6200009999", name="Alice Chan")
    a = case_create(subject="a", channel="phone", actor=agent, customer=customer)
    b = case_create(subject="b", channel="phone", actor=agent, customer=other)
    with pytest.raises(MergeNotAllowed):
        case_merge(source=a, target=b, actor=agent)
    with pytest.raises(MergeNotAllowed):
        case_merge(source=a, target=a, actor=agent)
