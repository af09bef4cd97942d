"""The upgrade turns threads kept as readable phones, openids and Alipay ids into their blind
index, leaves other threads alone, and finds the same cases afterwards."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps

from bankdesk.tickets.models import Conversation
from bankdesk.tickets.selectors import thread_case
from bankdesk.tickets.services import case_create

pytestmark = pytest.mark.django_db

migration = importlib.import_module(
    "bankdesk.tickets.migrations.0005_conversation_threads_blind_indexed"
)


def test_readable_identifier_threads_become_their_blind_index(agent):
    threads = {
        "sms": "+8613900001111",
        "phone": "13900001111",  # an older row, not in E.164 yet
        "wechat": "oX7kP0ZbQ1-wRc3dYt5uV8nM2sLa",
        "alipay": "2088102146225135",
        "email": "<root-1@mail.example.cn>",
        "web_chat": "a1b2c3d4e5f6a1b2c3d4e5f6",
    }
    cases = {}
    for channel, thread in threads.items():
        cases[channel] = case_create(subject="咨询", channel=channel, actor=agent, text="您好")
        # As the rows were before the upgrade: the thread in clear.
        Conversation.objects.filter(case=cases[channel]).update(external_thread_id=thread)

    migration.threads_to_blind_index(apps, None)
    migration.threads_to_blind_index(apps, None)  # run again after an interruption: no change

    stored = dict(Conversation.objects.values_list("channel", "external_thread_id"))
    for channel in ("sms", "phone", "wechat", "alipay"):
        assert stored[channel].startswith("bi1:") and threads[channel] not in stored[channel]
        assert thread_case(channel, threads[channel]) == cases[channel]
    assert stored["phone"] == stored["sms"]  # one phone, one index, whatever its old form
    assert stored["email"] == threads["email"] and stored["web_chat"] == threads["web_chat"]
