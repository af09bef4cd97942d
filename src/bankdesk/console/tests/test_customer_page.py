"""The customer page: what each role sees of a customer, a reveal for a reason, the timeline and
cases, and a provisional contact folded into the customer it turned out to be."""

from __future__ import annotations

import pytest

from bankdesk.conftest import sign_in_with_second_factor
from bankdesk.customers.models import Customer
from bankdesk.intake.channels.base import InboundMessage
from bankdesk.intake.services import inbound_receive
from bankdesk.security.models import AuditEntry
from bankdesk.tickets.models import Case
from bankdesk.tickets.services import case_create

pytestmark = pytest.mark.django_db


def test_an_agent_sees_the_profile_masked_with_the_timeline_and_cases(
    client, agent, general_team, customer
):
    case = case_create(
        subject="信用卡年费争议", channel="phone", team=general_team, customer=customer, actor=None
    )
    client.force_login(agent)
    page = client.get(f"/customers/{customer.pk}/").content.decode()
    assert "王小明" in page and "6200001234" in page
    assert "5678" in page and "13812345678" not in page  # the phone, masked
    assert "CRD-0001" not in page
    assert case.number in page
    assert "显示完整信息" not in page  # agents may not reveal
    assert client.post(
        f"/customers/{customer.pk}/reveal/", {"field": "phone", "reason": "客户来电核实身份"}
    ).status_code in {403, 404}


def test_a_supervisor_reveals_a_phone_for_a_reason_that_is_audited(client, supervisor, customer):
    sign_in_with_second_factor(client, supervisor)
    refused = client.post(f"/customers/{customer.pk}/reveal/", {"field": "phone", "reason": "看"})
    assert refused.status_code == 400 and "+8613812345678" not in refused.content.decode()

    page = client.post(
        f"/customers/{customer.pk}/reveal/", {"field": "phone", "reason": "客户来电核实身份"}
    ).content.decode()
    assert "+8613812345678" in page
    entry = AuditEntry.objects.filter(action="customer.reveal").get()
    assert entry.reason == "客户来电核实身份" and entry.actor_id == supervisor.pk


def test_a_provisional_contact_is_merged_into_the_customer(client, agent, general_team, customer):
    result = inbound_receive(
        InboundMessage(
            channel="email",
            external_id="<m1@example.cn>",
            text="我的卡被吞了",
            subject="ATM 吞卡",
            sender_kind="email",
            sender_value="xiaoming.other@example.cn",
        )
    )
    provisional = result.case.customer
    assert provisional.is_provisional
    Case.objects.filter(pk=result.case.pk).update(team=general_team)
    client.force_login(agent)
    page = client.get(f"/customers/{provisional.pk}/").content.decode()
    assert "合并到该客户" in page

    wrong = client.post(
        f"/customers/{provisional.pk}/merge/", {"into": "0000", "reason": "客户来电确认"}
    )
    assert wrong.status_code == 404 and "没有客户使用此客户号" in wrong.content.decode()
    done = client.post(
        f"/customers/{provisional.pk}/merge/",
        {"into": customer.customer_number, "reason": "客户来电确认是本人邮箱"},
    )
    assert done.status_code == 302 and done.url == f"/customers/{customer.pk}/"
    assert not Customer.objects.filter(pk=provisional.pk).exists()
    assert Case.objects.get(pk=result.case.pk).customer_id == customer.pk


def test_a_customer_nobody_may_see_is_not_found(client, agent):
    client.force_login(agent)
    assert client.get("/customers/999999/").status_code == 404
