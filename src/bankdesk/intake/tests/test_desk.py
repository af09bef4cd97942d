"""Staff side of intake: replies on the customer's channel, one timeline, provisional merges."""

from __future__ import annotations

import json

import pytest

from bankdesk.customers.models import Customer, Identity
from bankdesk.intake.channels.base import InboundMessage
from bankdesk.intake.models import OutboxMessage
from bankdesk.intake.services import inbound_receive
from bankdesk.security.models import AuditEntry
from bankdesk.staff.choices import Role
from bankdesk.tickets.models import Case

pytestmark = pytest.mark.django_db


def _inbound(channel: str, external_id: str, kind: str, value: str, text: str = "你好"):
    return inbound_receive(
        InboundMessage(
            channel=channel,
            external_id=external_id,
            text=text,
            sender_kind=kind,
            sender_value=value,
            thread_id=value,
        )
    )


def _give_to(case: Case, team) -> None:
    Case.objects.filter(pk=case.pk).update(team=team)


def test_a_reply_goes_back_on_the_channel_the_customer_used(agent_api, general_team):
    case = _inbound("sms", "s1", "phone", "13912345678").case
    _give_to(case, general_team)
    response = agent_api.post(f"/cases/{case.pk}/reply", {"text": "已为您解锁"})
    assert response.status_code == 201, response.json_body
    assert response.json_body["channel"] == "sms"
    item = OutboxMessage.objects.get(pk=response.json_body["outbox_id"])
    assert (item.channel, item.recipient, item.status) == ("sms", "+8613912345678", "pending")
    payload = json.loads(item.payload)
    assert payload["text"] == "已为您解锁" and f"[{case.number}]" in payload["subject"]
    assert payload["in_reply_to"] == "s1"


def test_the_customers_preference_wins_when_they_can_be_reached_there(
    agent_api, general_team, customer
):
    Customer.objects.filter(pk=customer.pk).update(preferred_channel="email")
    case = _inbound("sms", "s1", "phone", "13812345678").case  # the fixture customer's phone
    assert case.customer == customer
    _give_to(case, general_team)
    body = agent_api.post(f"/cases/{case.pk}/reply", {"text": "邮件回复"}).json_body
    item = OutboxMessage.objects.get(pk=body["outbox_id"])
    assert (item.channel, item.recipient) == ("email", "wang.xm@example.cn")


def test_a_reply_on_a_channel_without_a_way_back_is_recorded_only(agent_api, agent, general_team):
    response = agent_api.post(
        "/cases", {"subject": "柜台咨询", "channel": "branch", "team_id": general_team.pk}
    )
    case_id = response.json_body["id"]
    body = agent_api.post(f"/cases/{case_id}/reply", {"text": "已当面解答"}).json_body
    assert (body["channel"], body["outbox_id"]) == ("branch", None)
    assert not OutboxMessage.objects.exists()


def test_no_address_to_reply_to_is_a_clear_error_and_nothing_is_kept(agent_api, general_team):
    case = _inbound("sms", "s1", "phone", "13912345678").case
    _give_to(case, general_team)
    response = agent_api.post(f"/cases/{case.pk}/reply", {"text": "x", "channel": "wechat"})
    assert (response.status_code, response.json_body["field"]) == (422, "channel")
    assert case.messages.count() == 1 and not OutboxMessage.objects.exists()


def test_one_timeline_shows_every_channel_newest_first(agent_api, general_team, customer):
    sms = _inbound("sms", "s1", "phone", "13812345678", "短信").case
    mail = _inbound("email", "<m1@x>", "email", "wang.xm@example.cn", "邮件").case
    for case in (sms, mail):
        _give_to(case, general_team)
    body = agent_api.get(f"/customers/{customer.pk}/timeline", limit=1).json_body
    assert [(i["channel"], i["text"]) for i in body["items"]] == [("email", "邮件")]
    rest = agent_api.get(f"/customers/{customer.pk}/timeline", cursor=body["next_cursor"]).json_body
    assert [(i["channel"], i["case_number"]) for i in rest["items"]] == [("sms", sms.number)]
    assert rest["next_cursor"] is None


def test_the_timeline_leaves_out_cases_the_reader_may_not_see(api_for, make_staff, customer):
    _inbound("sms", "s1", "phone", "13812345678")  # unrouted: in no agent's team
    outsider = make_staff("outsider", Role.AGENT)
    body = api_for(outsider).get(f"/customers/{customer.pk}/timeline").json_body
    assert body["items"] == []


def test_a_provisional_contact_is_folded_into_the_real_customer(agent_api, agent, customer):
    provisional_case = _inbound(
        "wechat", "w1", "wechat_openid", "o6_bmjrPTlm6_2sgVt7hMZOPfL2M"
    ).case
    provisional = provisional_case.customer
    assert provisional.is_provisional
    response = agent_api.post(
        f"/customers/{provisional.pk}/merge",
        {"into_customer_id": customer.pk, "reason": "客户来电核实了微信号"},
    )
    assert response.status_code == 200, response.json_body
    assert not Customer.objects.filter(pk=provisional.pk).exists()
    assert Case.objects.get(pk=provisional_case.pk).customer == customer
    assert Identity.objects.filter(customer=customer, kind="wechat_openid").exists()
    entry = AuditEntry.objects.get(action="customer.merge_provisional")
    assert "客户来电核实了微信号" in entry.reason
    # The next WeChat message from that openid now lands with the real customer.
    again = _inbound("wechat", "w2", "wechat_openid", "o6_bmjrPTlm6_2sgVt7hMZOPfL2M")
    assert again.case.customer == customer


def test_only_a_provisional_customer_can_be_folded(agent_api, customer):
    other = _inbound("sms", "s1", "phone", "13900000000").case.customer
    response = agent_api.post(
        f"/customers/{customer.pk}/merge", {"into_customer_id": other.pk, "reason": "x"}
    )
    assert (response.status_code, response.json_body["field"]) == (422, "customer_id")
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_an_admin_sets_channel_secrets_that_are_stored_encrypted_and_never_shown(
    client, monkeypatch, admin_user
):
    from django.db import connection

    monkeypatch.setattr("bankdesk.staff.mfa.mfa_is_satisfied", lambda user: True)  # not under test
    client.force_login(admin_user)
    form = {
        "code": "bank-sms",
        "channel": "sms",
        "name": "短信网关",
        "is_active": "on",
        "settings": '{"api_url": "http://127.0.0.1:9/sms"}',
        "new_secrets": '{"api_key": "sk-live-123456"}',
    }
    response = client.post("/admin/intake/channelendpoint/add/", form)
    assert response.status_code == 302, response.content.decode()[:1500]
    from bankdesk.intake.models import ChannelEndpoint

    endpoint = ChannelEndpoint.objects.get(code="bank-sms")
    assert json.loads(endpoint.secrets) == {"api_key": "sk-live-123456"}
    with connection.cursor() as cursor:
        cursor.execute("SELECT secrets FROM intake_channelendpoint WHERE code = 'bank-sms'")
        (stored,) = cursor.fetchone()
    assert "sk-live" not in stored
    page = client.get(f"/admin/intake/channelendpoint/{endpoint.pk}/change/").content.decode()
    assert "sk-live" not in page
    # Saving without new secrets keeps the old ones.
    form["new_secrets"] = ""
    form["name"] = "短信网关（主）"
    client.post(f"/admin/intake/channelendpoint/{endpoint.pk}/change/", form)
    endpoint.refresh_from_db()
    assert endpoint.name == "短信网关（主）" and "sk-live-123456" in endpoint.secrets
    assert (
        AuditEntry.objects.filter(action__startswith="intake.channelendpoint.admin_").count() == 2
    )


def test_the_one_way_to_answer_a_customer_goes_through_the_outbox(agent_api, general_team, client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert set(paths["/api/v1/cases/{case_id}/messages"]) == {"get"}
    assert set(paths["/api/v1/cases/{case_id}/reply"]) == {"post"}
    case = _inbound("email", "m1@example.cn", "email", "qian.qi@example.cn").case
    _give_to(case, general_team)

    body = agent_api.post(f"/cases/{case.pk}/reply", {"text": "已为您解锁"}).json_body

    item = OutboxMessage.objects.get(pk=body["outbox_id"])
    assert (item.channel, item.recipient, item.status) == ("email", "qian.qi@example.cn", "pending")
    assert item.message_id == body["message"]["id"] and len(item.idempotency_key) == 32
    listed = agent_api.get(f"/cases/{case.pk}/messages").json_body
    assert [m["direction"] for m in listed] == ["inbound", "outbound"]
