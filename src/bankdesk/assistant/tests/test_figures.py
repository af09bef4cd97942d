"""How the assistant did: the figures a supervisor reads, counted from what was stored."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from bankdesk.assistant.services import assistant_reply

pytestmark = pytest.mark.usefixtures("assistant")


def _conversation(*texts: str) -> None:
    conversation_id = None
    for text in texts:
        reply = assistant_reply(text=text, actor=None, conversation_id=conversation_id)
        conversation_id = reply.dialogue.public_id


def test_the_figures_count_answers_hand_offs_and_what_went_unanswered(supervisor, api_for):
    _conversation("怎么修改银行卡密码", "how do I change my PIN")  # answered twice, kept
    _conversation("tell me a joke", "明天天气怎么样")  # not placed twice: a person
    _conversation("转人工")  # asked for a person
    response = api_for(supervisor).get("/assistant/figures")
    assert response.status_code == 200, response.json_body
    figures = response.json_body
    today = timezone.localdate()
    assert figures["until"] == today.isoformat()
    assert figures["since"] == (today - timedelta(days=29)).isoformat()
    assert figures["dialogues"] == 3 and figures["handed_off"] == 2
    assert figures["containment"] == pytest.approx(1 / 3, abs=1e-4)
    assert figures["messages"] == 5
    assert figures["by_action"] == {
        "answer": 2,
        "clarify": 0,
        "fallback": 1,
        "handoff": 2,
        "relay": 0,
    }
    reasons = figures["handoff_reasons"]
    assert reasons["asked_for_person"] == 1 and reasons["unsure"] == 1
    assert sum(reasons.values()) == 2
    assert figures["top_intents"] == [{"intent": "change_pin", "answered": 2}]
    assert [item["text"] for item in figures["unanswered"]] == ["tell me a joke"]


def test_a_period_without_dialogues_has_no_containment(supervisor, api_for):
    _conversation("转人工")
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    figures = api_for(supervisor).get("/assistant/figures", since=tomorrow, until=tomorrow)
    assert figures.json_body["dialogues"] == 0 and figures.json_body["containment"] is None
    assert figures.json_body["unanswered"] == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "2026-11-20", "until": "2026-11-10"}, "since"),
        ({"since": "2024-01-01", "until": "2026-01-01"}, "since"),
        ({"since": "not a day"}, "since"),
        ({"until": "1999-12-31"}, "until"),
    ],
)
def test_a_bad_period_is_refused_with_the_field_named(supervisor, api_for, params, field):
    response = api_for(supervisor).get("/assistant/figures", **params)
    assert response.status_code in {400, 422}
    assert field in str(response.json_body)


def test_only_supervisors_auditors_and_admins_read_the_figures(agent_api, auditor, api_for):
    assert agent_api.get("/assistant/figures").status_code == 403
    assert api_for(auditor).get("/assistant/figures").status_code == 200
