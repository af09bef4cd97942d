"""Subjects and ids kept with line breaks before intake sanitised them are cleaned on upgrade."""

from __future__ import annotations

import hashlib
import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection

from bankdesk.tickets.models import Case, Conversation, Message
from bankdesk.tickets.services import case_create

pytestmark = pytest.mark.django_db

migration = importlib.import_module("bankdesk.tickets.migrations.0008_header_values_stored_clean")


def _mail_case(message_id: str) -> Case:
    return case_create(
        subject="卡被锁了",
        channel="email",
        actor=None,
        text="卡被锁了",
        external_id=message_id,
        external_thread_id=message_id,
    )


def test_poisoned_subjects_and_ids_are_cleaned_and_clean_ones_left_alone():
    poisoned = _mail_case("placeholder@example.cn")
    clean = _mail_case("fine-0001@example.cn")
    # As the intake of old kept them, past the checks it has now.
    Case.objects.filter(pk=poisoned.pk).update(subject="我的卡\r\n\tBcc: spy@attacker.example\x07")
    Message.objects.filter(case=poisoned).update(external_id="poison-id\r\n\tBcc:spy@x.example")
    Conversation.objects.filter(case=poisoned).update(external_thread_id="root\n\tBcc:spy@x")

    migration.clean(apps, SimpleNamespace(connection=connection))

    poisoned.refresh_from_db()
    assert poisoned.subject == "我的卡 Bcc: spy@attacker.example"
    digest = "sha256:" + hashlib.sha256(b"poison-id\r\n\tBcc:spy@x.example").hexdigest()
    assert poisoned.messages.get().external_id == digest
    thread = poisoned.conversations.get().external_thread_id
    assert thread == "sha256:" + hashlib.sha256(b"root\n\tBcc:spy@x").hexdigest()
    clean.refresh_from_db()
    assert clean.subject == "卡被锁了"
    assert clean.messages.get().external_id == "fine-0001@example.cn"
    assert clean.conversations.get().external_thread_id == "fine-0001@example.cn"
