"""A customer's conversations with the assistant, for the staff who serve them: what they
asked before, what they were told, and which case a hand-off opened."""

from __future__ import annotations

import pytest

from bankdesk.assistant.services import assistant_reply
from bankdesk.tickets.models import Case

pytestmark = pytest.mark.usefixtures("assistant")


def _conversation(customer, *texts: str):
    reply = None
    for text in texts:
        reply = assistant_reply(
            text=text,
            actor=None,
            customer=customer,
            conversation_id=reply.dialogue.public_id if reply else None,
        )
    return reply


def test_staff_see_what_the_customer_asked_the_assistant_newest_first(
    customer, agent, general_team, api_for
):
    _conversation(customer, "怎么修改银行卡密码", "卡号 4111 1111 1111 1111 的密码呢")
    handed = _conversation(customer, "转人工")
    Case.objects.filter(pk=handed.case.pk).update(team=general_team)
    response = api_for(agent).get(f"/customers/{customer.pk}/assistant")
    assert response.status_code == 200, response.json_body
    newest, first = response.json_body
    assert newest["case_number"] == handed.case.number and newest["status"] == "handed_off"
    assert [t["speaker"] for t in first["turns"]] == ["customer", "assistant"] * 2
    assert first["turns"][0]["text"] == "怎么修改银行卡密码"
    assert first["turns"][1]["action"] == "answer" and first["turns"][1]["intent"] == "change_pin"
    assert "4111 1111" not in first["turns"][2]["text"]  # masked before it was stored
    assert first["case_id"] is None and first["channel"] == "app"


def test_a_conversation_that_became_a_case_the_reader_may_not_see_stays_out(
    customer, agent, complaint_officer, complaint_team, api_for
):
    handed = _conversation(customer, "我要投诉你们")
    Case.objects.filter(pk=handed.case.pk).update(is_complaint=True, team=complaint_team)
    assert api_for(agent).get(f"/customers/{customer.pk}/assistant").json_body == []
    seen = api_for(complaint_officer).get(f"/customers/{customer.pk}/assistant").json_body
    assert [d["case_number"] for d in seen] == [handed.case.number]


def test_an_unknown_customer_is_not_found(agent_api):
    assert agent_api.get("/customers/999999/assistant").status_code == 404
