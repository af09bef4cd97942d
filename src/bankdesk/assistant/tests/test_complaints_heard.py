"""A complaint said to the assistant — in web chat and on WeChat — opens a complaint: the case
is one, its complaint record is opened, routing puts it on the complaints team, it runs on the
complaint policy's clocks, and a complaint officer sees it. Driven through the channels."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import async_to_sync

from bankdesk.assistant.tests.test_wechat import said
from bankdesk.complaints.models import Complaint
from bankdesk.intake.models import ChannelEndpoint
from bankdesk.intake.tests.test_webchat_protocol import (
    chat,
    fresh_layer,  # noqa: F401  (autouse: an empty channel layer per test)
    opened,
)
from bankdesk.intake.tests.test_wechat_webhook import endpoint  # noqa: F401  (a fixture)
from bankdesk.sla.models import SlaClock
from bankdesk.sla.services import TargetSpec, sla_policy_create
from bankdesk.staff.choices import Role
from bankdesk.staff.models import Team, User
from bankdesk.tickets.access import cases_visible_to
from bankdesk.tickets.models import Case
from bankdesk.tickets.routing_rules import routing_rule_create

COMPLAINT_POLICY = "投诉 24 小时"
STATUTORY_POLICY = "内地监管投诉时限 Mainland China (NFRA)"  # seeded with every install


@pytest.fixture
def complaint_desk(
    make_staff: Any, complaint_team: Team, general_team: Team, migrated_data: None
) -> User:
    """The complaints team with an officer on duty; complaints routed there and timed by
    their own policy, everything else by the standard one."""
    officer = make_staff("officer", Role.COMPLAINT_OFFICER, teams=[complaint_team])
    officer.presence = "available"
    officer.save(update_fields=["presence"])
    routing_rule_create(
        name="投诉 → 投诉处理组", team=complaint_team, actor=None, is_complaint=True, position=10
    )
    routing_rule_create(name="其他 → 综合服务组", team=general_team, actor=None, position=100)
    sla_policy_create(
        code="complaints",
        name=COMPLAINT_POLICY,
        position=10,
        is_complaint=True,
        actor=None,
        targets=[TargetSpec(name="24 小时办结", metric="resolution", minutes=1440)],
    )
    sla_policy_create(
        code="standard",
        name="标准服务",
        position=100,
        actor=None,
        targets=[TargetSpec(name="首次响应", metric="first_response", minutes=240)],
    )
    return officer


def _is_a_complaint_on_the_desk(case: Case, officer: User, complaint_team: Team) -> None:
    assert case.is_complaint
    complaint = Complaint.objects.get(case=case)
    assert complaint.opened_on == "assistant" and complaint.channel == case.channel
    assert (case.team, case.assignee) == (complaint_team, officer)
    clocks = SlaClock.objects.filter(case=case).select_related("target__policy")
    # The bank's complaint clocks, and beside them the regulator's 15-day decision.
    assert {(clock.target.policy.name, clock.target.policy.regulator) for clock in clocks} == {
        (COMPLAINT_POLICY, ""),
        (STATUTORY_POLICY, "cn-nfra"),
    }
    assert cases_visible_to(officer).filter(pk=case.pk).exists()


@pytest.mark.django_db
@pytest.mark.usefixtures("assistant", "endpoint")
def test_a_complaint_on_wechat_opens_a_complaint_on_the_complaints_desk(
    complaint_desk: User, complaint_team: Team
) -> None:
    reply = said("我要投诉！你们乱扣我信用卡年费，必须给个说法")
    case = Case.objects.get()
    assert case.number in reply
    _is_a_complaint_on_the_desk(case, complaint_desk, complaint_team)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("assistant")
def test_a_complaint_in_web_chat_opens_a_complaint_on_the_complaints_desk(
    complaint_desk: User, complaint_team: Team
) -> None:
    ChannelEndpoint.objects.create(
        code="bank-web", channel="web_chat", name="网上银行在线客服", settings={}
    )

    async def scenario() -> None:
        communicator = chat()
        await opened(communicator)
        await communicator.send_json_to(
            {
                "type": "message",
                "client_id": "c1",
                "text": "I want to make a complaint about the fees you charged",
            }
        )
        ack = await communicator.receive_json_from(timeout=5)
        assert ack["type"] == "ack"
        answer = await communicator.receive_json_from(timeout=5)
        assert answer["author"] == "assistant"
        await communicator.disconnect()

    async_to_sync(scenario)()
    case = Case.objects.get()
    _is_a_complaint_on_the_desk(case, complaint_desk, complaint_team)


@pytest.mark.django_db
@pytest.mark.usefixtures("assistant", "endpoint")
def test_a_complaint_made_after_the_hand_off_turns_the_case_into_one(
    complaint_desk: User, complaint_team: Team
) -> None:
    """Once a person has the case, the customer's messages go to it, not to the assistant:
    the words still make it a complaint."""
    said("转人工")
    case = Case.objects.get()
    assert not case.is_complaint and not Complaint.objects.exists()
    said("你们处理太慢了，我要向银保监投诉")
    case.refresh_from_db()
    assert case.is_complaint
    assert Complaint.objects.get(case=case).opened_on == "customer"
    assert cases_visible_to(complaint_desk).filter(pk=case.pk).exists()
    running = SlaClock.objects.filter(case=case, status="running")
    assert {c.target.policy.name for c in running} == {COMPLAINT_POLICY, STATUTORY_POLICY}
