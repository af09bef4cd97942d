"""The complaint record: opened whenever a case becomes a complaint, taken step by step
(owner, acknowledgement, investigation, decision, the customer's response, closure, reopening),
every step in the case's history and audited; a step out of order changes nothing; nobody
involved in what a complaint is about may own or handle it."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from bankdesk.complaints.choices import ComplaintStatus, CustomerResponse, Step
from bankdesk.complaints.errors import ComplaintStepRefused, OwnerNotOnComplaintTeam
from bankdesk.complaints.models import Complaint, ComplaintClass
from bankdesk.complaints.services import (
    Details,
    complaint_acknowledge,
    complaint_classify,
    complaint_close,
    complaint_decide,
    complaint_details_set,
    complaint_investigate,
    complaint_owner_set,
    complaint_reopen,
    complaint_response_record,
)
from bankdesk.lib.errors import InvalidInput
from bankdesk.security.models import AuditEntry
from bankdesk.staff.choices import Role
from bankdesk.tickets.choices import CaseStatus, EventKind
from bankdesk.tickets.errors import AssigneeRecused
from bankdesk.tickets.models import Case, CaseEvent
from bankdesk.tickets.routing import case_route
from bankdesk.tickets.routing_rules import routing_rule_create
from bankdesk.tickets.services import (
    case_assign,
    case_category_change,
    case_complaint_mark,
    case_create,
    case_link,
)

pytestmark = pytest.mark.django_db


def _steps(case: Case) -> list[str]:
    return [
        data["step"]
        for data in CaseEvent.objects.filter(case=case, kind=EventKind.COMPLAINT_STEP)
        .order_by("id")
        .values_list("data", flat=True)
    ]


def test_a_case_opened_as_a_complaint_on_any_channel_has_its_record(categories, complaint_team):
    for channel in ("phone", "email", "branch", "wechat"):
        case = case_create(
            subject="年费被重复扣收",
            channel=channel,
            category=categories["complaint_fees"],
            actor=None,
        )
        complaint = Complaint.objects.get(case=case)
        assert (complaint.status, complaint.channel, complaint.opened_on) == (
            ComplaintStatus.RECEIVED,
            channel,
            "created",
        )
        assert complaint.received_at == case.created_at
        assert _steps(case) == [Step.OPENED]
        assert CaseEvent.objects.filter(case=case, kind=EventKind.COMPLAINT_OPENED).count() == 1
    plain = case_create(subject="转账查询", channel="phone", actor=None)
    assert not Complaint.objects.filter(case=plain).exists()


def test_a_case_found_to_be_a_complaint_gets_its_record_once(categories, agent):
    case = case_create(subject="转账失败", channel="phone", actor=None)
    case_category_change(case=case, category=categories["complaint_fees"], actor=agent)
    case_complaint_mark(case=Case.objects.get(pk=case.pk), actor=agent, on="staff")  # again
    complaint = Complaint.objects.get(case=case)
    assert complaint.opened_on == "category" and complaint.received_at > case.created_at
    assert _steps(case) == [Step.OPENED]
    assert AuditEntry.objects.filter(action="case.complaint_opened").count() == 1


@pytest.fixture
def officer(make_staff, complaint_team):
    return make_staff("officer", Role.COMPLAINT_OFFICER, teams=[complaint_team])


@pytest.fixture
def complaint(categories, complaint_team) -> Complaint:
    case = case_create(
        subject="理财产品销售误导",
        channel="branch",
        category=categories["complaint_fees"],
        actor=None,
    )
    return Complaint.objects.get(case=case)


def test_a_complaint_is_taken_through_its_steps_to_closure_and_reopened(complaint, officer):
    complaint_owner_set(complaint=complaint, owner=officer, actor=officer)
    case = Case.objects.get(pk=complaint.case_id)
    assert case.assignee == officer and case.team.is_complaint_team
    complaint_details_set(
        complaint=complaint,
        details=Details(demand="退还本金损失", disputed_amount=Decimal("12800.50")),
        actor=officer,
    )
    product = ComplaintClass.objects.get(code="product-wealth-own")
    issue = ComplaintClass.objects.get(code="issue-selling-misleading")
    cause = ComplaintClass.objects.get(code="cause-staff-conduct")
    complaint_classify(
        complaint=complaint, product=product, issue=issue, cause=cause, actor=officer
    )
    complaint_acknowledge(complaint=complaint, actor=officer)
    complaint_investigate(complaint=complaint, actor=officer)
    complaint_decide(
        complaint=complaint, decision="销售过程未做风险提示", remedy="赔付损失", actor=officer
    )
    # The customer objects: investigated again, then decided anew and accepted.
    complaint_response_record(
        complaint=complaint, response=CustomerResponse.OBJECTED, actor=officer
    )
    assert Complaint.objects.get(pk=complaint.pk).status == ComplaintStatus.INVESTIGATING
    complaint_decide(
        complaint=complaint, decision="全额赔付", remedy="赔付 12800.50 元", actor=officer
    )
    complaint_response_record(
        complaint=complaint, response=CustomerResponse.CONFIRMED, actor=officer
    )
    complaint_close(complaint=complaint, actor=officer)

    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.CLOSED and complaint.closed_within_24h is True
    assert (complaint.product, complaint.issue, complaint.cause) == (product, issue, cause)
    assert str(complaint.disputed_amount) == "12800.50"
    assert Case.objects.get(pk=case.pk).status == CaseStatus.RESOLVED
    assert _steps(case) == [
        Step.OPENED, Step.OWNER, Step.DETAILS, Step.CLASSIFIED, Step.ACKNOWLEDGED,
        Step.INVESTIGATING, Step.DECIDED, Step.RESPONSE, Step.DECIDED, Step.RESPONSE,
        Step.CLOSED,
    ]  # fmt: skip
    assert AuditEntry.objects.filter(action="case.complaint_step").count() == len(_steps(case))

    complaint_reopen(complaint=complaint, reason="客户称赔付未到账", actor=officer)
    complaint.refresh_from_db()
    assert (complaint.status, complaint.reopened, complaint.closed_at) == (
        ComplaintStatus.INVESTIGATING,
        1,
        None,
    )
    assert Case.objects.get(pk=case.pk).status == CaseStatus.OPEN


def test_a_step_out_of_order_or_bad_details_change_nothing(complaint, officer):
    with pytest.raises(ComplaintStepRefused):
        complaint_close(complaint=complaint, actor=officer)
    with pytest.raises(ComplaintStepRefused):  # no owner yet
        complaint_decide(complaint=complaint, decision="驳回", remedy="", actor=officer)
    with pytest.raises(InvalidInput):
        complaint_decide(complaint=complaint, decision="   ", remedy="", actor=officer)
    with pytest.raises(InvalidInput):
        complaint_details_set(
            complaint=complaint,
            details=Details(regulator_reference="JG-2026-001"),  # not forwarded
            actor=officer,
        )
    wrong_kind = ComplaintClass.objects.get(code="issue-fees")
    with pytest.raises(InvalidInput):
        complaint_classify(
            complaint=complaint, product=wrong_kind, issue=None, cause=None, actor=officer
        )
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.RECEIVED and complaint.product is None
    assert _steps(complaint.case) == [Step.OPENED]


def test_the_owner_must_be_on_a_complaint_team(complaint, agent):
    with pytest.raises(OwnerNotOnComplaintTeam):
        complaint_owner_set(complaint=complaint, owner=agent, actor=agent)
    assert Complaint.objects.get(pk=complaint.pk).owner is None


def test_who_handled_what_is_complained_about_is_recused(
    categories, general_team, complaint_team, agent, make_staff, officer
):
    # The agent handled the case; the customer then complains about how.
    colleague = make_staff("colleague", Role.COMPLAINT_OFFICER, teams=[complaint_team])
    agent.teams.add(complaint_team)
    case = case_create(subject="催收电话骚扰", channel="phone", team=general_team, actor=None)
    case_assign(case=case, team=general_team, assignee=agent, actor=None)
    case = case_complaint_mark(case=Case.objects.get(pk=case.pk), actor=None, on="staff")
    complaint = Complaint.objects.get(case=case)

    with pytest.raises(AssigneeRecused) as refused:
        case_assign(case=case, team=complaint_team, assignee=agent, actor=officer)
    assert "may not handle it" in refused.value.message
    with pytest.raises(AssigneeRecused):
        complaint_owner_set(complaint=complaint, owner=agent, actor=officer)
    assert Complaint.objects.get(pk=complaint.pk).owner is None

    # Routing passes the recused agent by, however free they are.
    for person in (agent, colleague, officer):
        person.presence = "available"
        person.save(update_fields=["presence"])
    routing_rule_create(name="投诉", team=complaint_team, actor=None, is_complaint=True)
    Case.objects.filter(pk=case.pk).update(assignee=None, team=None)
    outcome = case_route(case=Case.objects.get(pk=case.pk), actor=None)
    assert outcome.assignee is not None and outcome.assignee != agent


def test_who_handled_the_case_a_complaint_refers_to_is_recused(
    categories, general_team, complaint_team, agent, officer
):
    agent.teams.add(complaint_team)
    earlier = case_create(subject="贷款审批", channel="phone", team=general_team, actor=None)
    case_assign(case=earlier, team=general_team, assignee=agent, actor=None)
    complaint_case = case_create(
        subject="投诉贷款审批拖延",
        channel="phone",
        category=categories["complaint_fees"],
        actor=None,
    )
    case_link(case=complaint_case, referred=earlier, actor=None)
    with pytest.raises(AssigneeRecused):
        case_assign(case=complaint_case, team=complaint_team, assignee=agent, actor=officer)
    case_assign(case=complaint_case, team=complaint_team, assignee=officer, actor=officer)


def test_staff_of_the_branch_complained_about_are_recused(
    categories, complaint_team, make_staff, officer
):
    from bankdesk.staff.services import branch_create, staff_work_set

    branch = branch_create(code="sh-pudong", name="浦东支行")
    teller = make_staff("teller", Role.COMPLAINT_OFFICER, teams=[complaint_team])
    staff_work_set(user=teller, teams=[complaint_team], skills=[], max_open_cases=8, branch=branch)
    case = case_create(
        subject="网点柜员态度恶劣",
        channel="branch",
        branch=branch,
        category=categories["complaint_fees"],
        actor=None,
    )
    complaint = Complaint.objects.get(case=case)
    with pytest.raises(AssigneeRecused) as refused:
        complaint_owner_set(complaint=complaint, owner=teller, actor=officer)
    assert "works at the branch" in refused.value.message
    # Anyone else on the complaint team may own it; a complaint about another branch is
    # the teller's to handle.
    complaint_owner_set(complaint=complaint, owner=officer, actor=officer)
    elsewhere = case_create(
        subject="手机银行转账失败", channel="app", category=categories["complaint_fees"], actor=None
    )
    complaint_owner_set(
        complaint=Complaint.objects.get(case=elsewhere), owner=teller, actor=officer
    )


def test_closed_within_24_hours_is_measured_from_receipt(complaint):
    complaint.closed_at = complaint.received_at + timedelta(hours=23, minutes=59)
    assert complaint.closed_within_24h is True
    complaint.closed_at = complaint.received_at + timedelta(hours=24, seconds=1)
    assert complaint.closed_within_24h is False
    complaint.closed_at = None
    assert complaint.closed_within_24h is None
    assert timezone.now() >= complaint.received_at


def test_a_letter_that_complains_opens_a_complaint_and_a_question_does_not():
    from bankdesk.intake.channels.base import InboundMessage
    from bankdesk.intake.services import inbound_receive

    def letter(n: int, text: str) -> Case:
        result = inbound_receive(
            InboundMessage(
                channel="email",
                external_id=f"<m{n}@example.cn>",
                subject="信用卡年费",
                text=text,
                sender_kind="email",
                sender_value=f"customer{n}@example.cn",
            )
        )
        assert result.case is not None
        return result.case

    question = letter(1, "请问信用卡年费怎么减免？")
    complaint = letter(2, "我要投诉：你们未经同意扣了我 300 元年费。")
    assert not question.is_complaint and not Complaint.objects.filter(case=question).exists()
    assert complaint.is_complaint
    assert Complaint.objects.get(case=complaint).opened_on == "customer"
