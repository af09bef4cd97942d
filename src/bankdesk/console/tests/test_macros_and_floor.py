"""Macros (written by supervisors for everyone, or by anyone for themselves, used from the reply
box with their changes) and the supervisor floor (figures per team, people, handing out)."""

from __future__ import annotations

import pytest

from bankdesk.conftest import sign_in_with_second_factor
from bankdesk.intake.channels.base import InboundMessage
from bankdesk.intake.services import inbound_receive
from bankdesk.tickets.macros import MacroSpec, macro_save, macro_text
from bankdesk.tickets.models import Case, Macro, Message
from bankdesk.tickets.services import case_create

pytestmark = pytest.mark.django_db

SPEC = MacroSpec(
    name="已提交核实",
    text_zh_hans="{customer_name}您好，工单 {case_number} 已提交核实。{agent}",
    text_zh_hant="{customer_name}您好，工單 {case_number} 已提交核實。{agent}",
    text_en="Dear {customer_name}, case {case_number} is with our team. {agent}",
    set_status="pending_internal",
    add_tag="核实中",
    shared=True,
)


def _chat_case(team, language: str = "zh-hans") -> Case:
    result = inbound_receive(
        InboundMessage(channel="web_chat", external_id="s1:c1", text="我的卡被吞了", thread_id="s1")
    )
    Case.objects.filter(pk=result.case.pk).update(team=team, status="open", language=language)
    return Case.objects.get(pk=result.case.pk)


def test_a_supervisor_writes_a_shared_macro_and_an_agent_may_not(client, supervisor, agent):
    sign_in_with_second_factor(client, supervisor)
    form = {"name": SPEC.name, "text_zh_hans": SPEC.text_zh_hans, "shared": "on"}
    assert client.post("/macros/", form).status_code == 302
    assert Macro.objects.get().owner_id is None

    client.force_login(agent)
    refused = client.post("/macros/", {**form, "name": "我的"})
    assert refused.status_code == 400
    assert Macro.objects.count() == 1
    mine = client.post("/macros/", {"name": "我的", "text_zh_hans": "您好"})
    assert mine.status_code == 302 and Macro.objects.get(name="我的").owner_id == agent.pk
    blank = client.post("/macros/", {"name": "空", "text_zh_hans": "   "})
    assert blank.status_code == 400 and "这个字段是必填项" in blank.content.decode()


def test_the_macro_is_filled_in_the_cases_language(agent, supervisor, general_team, customer):
    macro = macro_save(spec=SPEC, actor=supervisor)
    case = case_create(
        subject="年费", channel="phone", team=general_team, customer=customer, actor=None
    )
    assert macro_text(macro, case, agent) == f"王小明您好，工单 {case.number} 已提交核实。agent"
    case.language = "en"
    assert macro_text(macro, case, agent).startswith("Dear 王小明, case ")
    case.language = "zh-hant"
    assert "工單" in macro_text(macro, case, agent)


def test_a_reply_from_a_macro_brings_its_changes(client, agent, supervisor, general_team):
    macro = macro_save(spec=SPEC, actor=supervisor)
    case = _chat_case(general_team)
    client.force_login(agent)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert 'class="macro-choice"' in page and "已提交核实" in page

    text = macro_text(macro, case, agent)
    response = client.post(f"/cases/{case.pk}/reply/", {"text": text, "macro": macro.pk})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == "pending_internal"
    assert list(case.tags.values_list("name", flat=True)) == ["核实中"]
    assert Message.objects.filter(case=case, direction="outbound", text=text).count() == 1


def test_the_floor_shows_each_team_and_hands_a_case_out(client, supervisor, agent, general_team):
    waiting = case_create(subject="挂失补卡", channel="web_chat", team=general_team, actor=None)
    case_create(subject="转账失败", channel="phone", team=general_team, assignee=agent, actor=None)
    agent.presence = "available"
    agent.save(update_fields=["presence"])
    sign_in_with_second_factor(client, supervisor)
    response = client.get("/supervisor/")
    page = response.content.decode()
    row = response.context["teams"][0]
    assert (row["depth"], row["unassigned"], row["live_waiting"]) == (2, 1, 1)
    assert "挂失补卡" in page and "在线" in page

    done = client.post(
        "/cases/bulk/",
        {"action": "assign", "assign": agent.pk, "case": [waiting.pk], "back": "/supervisor/"},
    )
    assert done.status_code == 302 and done.url == "/supervisor/"
    waiting.refresh_from_db()
    assert waiting.assignee_id == agent.pk
    assert client.get("/supervisor/?part=1").context["teams"][0]["unassigned"] == 0


def test_agents_have_no_floor(client, agent):
    client.force_login(agent)
    assert client.get("/supervisor/").status_code == 404
