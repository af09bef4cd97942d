"""Phone/IVR: call records through the intake API, and recordings kept as evidence."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from bankdesk.staff.choices import Role
from bankdesk.staff.services import api_token_create
from bankdesk.tickets.models import Attachment, Case, Message

pytestmark = pytest.mark.django_db

AUDIO = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(64)


def _call(**changes: Any) -> dict[str, Any]:
    return {
        "call_id": "CALL-20261001-0001",
        "caller": "138 1234 5678",
        "called": "95588",
        "started_at": "2026-10-01T09:00:00+08:00",
        "duration_seconds": 185,
        "ivr_path": ["信用卡", "挂失"],
        "queue": "cards",
        "agent": "agent",
        "recording_url": "https://ivr.bank.example/rec/0001.wav",
        "transcript": "客户：我的卡丢了。\n坐席：已为您挂失。",
    } | changes


def _upload(api_client, call_id: str, content: bytes = AUDIO, name: str = "0001.wav", **kw):
    kind = kw.get("content_type", "audio/wav")
    return api_client.client.post(
        f"/api/v1/intake/calls/{call_id}/recording",
        data={"file": SimpleUploadedFile(name, content, content_type=kind)},
        headers=api_client.headers,
    )


def test_a_call_opens_a_case_for_the_caller_with_the_call_record(agent_api, customer, agent):
    response = agent_api.post("/intake/calls", _call())

    assert response.status_code == 201, response.json_body
    assert response.json_body["outcome"] == "new_case"
    message = Message.objects.get()
    assert message.channel == "phone" and message.external_id == "CALL-20261001-0001"
    assert message.case.customer == customer and message.case.channel == "phone"
    for part in (
        "5678 → 95588",  # the number itself is masked in message text
        "2026-10-01 09:00:00",
        "duration 3:05",
        "IVR: 信用卡 › 挂失",
        "Queue: cards",
        "Agent: agent",
        "Recording: https://ivr.bank.example/rec/0001.wav",
        "坐席：已为您挂失。",
    ):
        assert part in message.text


def test_the_same_call_again_changes_nothing(agent_api):
    agent_api.post("/intake/calls", _call())
    again = agent_api.post("/intake/calls", _call())

    assert again.status_code == 200 and again.json_body["outcome"] == "duplicate"
    assert Message.objects.count() == 1


def test_a_withheld_number_and_an_agent_id_are_accepted(agent_api, agent):
    response = agent_api.post("/intake/calls", _call(caller="", agent=agent.pk, ivr_path=[]))

    assert response.status_code == 201
    assert Case.objects.get().customer is None
    assert "number withheld" in Message.objects.get().text


@pytest.mark.parametrize(
    ("changes", "status", "field"),
    [
        ({"call_id": ""}, 422, "call_id"),
        ({"call_id": "a b"}, 422, "call_id"),
        ({"caller": "not a phone"}, 422, "caller"),
        ({"called": ""}, 422, "called"),
        ({"started_at": "2026-10-01T09:00:00"}, 422, "started_at"),
        ({"duration_seconds": -1}, 422, "duration_seconds"),
        ({"ivr_path": ["ok", "x\x00"]}, 422, "ivr_path.1"),
        ({"recording_url": "ftp://ivr.bank.example/0001.wav"}, 422, "recording_url"),
        ({"recording_url": "file:///etc/passwd"}, 422, "recording_url"),
        ({"agent": "nobody"}, 404, "agent"),
        ({"agent": 999_999}, 404, "agent"),
    ],
)
def test_bad_call_records_are_refused_naming_the_field(agent_api, changes, status, field):
    response = agent_api.post("/intake/calls", _call(**changes))

    assert response.status_code == status, response.json_body
    assert response.json_body["field"] == field
    assert Message.objects.count() == 0 and Case.objects.count() == 0


def test_a_recording_is_kept_on_the_calls_message_with_its_hash(agent_api):
    agent_api.post("/intake/calls", _call())

    response = _upload(agent_api, "CALL-20261001-0001")

    assert response.status_code == 201, response.json()
    body = response.json()["attachment"]
    assert body["sha256"] == hashlib.sha256(AUDIO).hexdigest()
    assert body["content_type"].startswith("audio/") and body["size"] == len(AUDIO)
    attachment = Attachment.objects.get()
    assert attachment.message.external_id == "CALL-20261001-0001"


def test_uploading_the_same_recording_again_answers_the_one_kept(agent_api):
    agent_api.post("/intake/calls", _call())
    first = _upload(agent_api, "CALL-20261001-0001")
    again = _upload(agent_api, "CALL-20261001-0001")

    assert again.status_code == 200
    assert again.json()["attachment"]["id"] == first.json()["attachment"]["id"]
    assert Attachment.objects.count() == 1


def test_a_different_recording_never_replaces_the_evidence(agent_api):
    agent_api.post("/intake/calls", _call())
    _upload(agent_api, "CALL-20261001-0001")
    other = _upload(agent_api, "CALL-20261001-0001", content=AUDIO + b"edited")

    assert other.status_code == 409 and other.json()["code"] == "recording_exists"
    assert Attachment.objects.count() == 1


def test_a_recording_must_be_audio_and_for_a_known_call(agent_api):
    agent_api.post("/intake/calls", _call())

    not_audio = _upload(
        agent_api, "CALL-20261001-0001", name="notes.txt", content_type="text/plain"
    )
    unknown = _upload(agent_api, "CALL-404")
    empty = _upload(agent_api, "CALL-20261001-0001", content=b"")

    assert not_audio.status_code == 422 and not_audio.json()["field"] == "file"
    assert unknown.status_code == 404 and unknown.json()["code"] == "call_not_found"
    assert empty.status_code in {400, 422}
    assert Attachment.objects.count() == 0


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.ADMIN])
def test_roles_that_do_not_work_cases_may_not_record_calls(make_staff, role):
    user = make_staff(f"u-{role}", role)
    headers = {"Authorization": f"Bearer {api_token_create(user=user).secret}"}

    response = Client().post(
        "/api/v1/intake/calls", _call(), content_type="application/json", headers=headers
    )

    assert response.status_code == 403
    assert Message.objects.count() == 0


def test_a_read_only_token_may_not_record_calls_or_recordings(agent):
    headers = {"Authorization": f"Bearer {api_token_create(user=agent, scope='read').secret}"}

    response = Client().post(
        "/api/v1/intake/calls", _call(), content_type="application/json", headers=headers
    )

    assert response.status_code == 403 and response.json()["code"] == "token_read_only"
    assert Message.objects.count() == 0


def test_a_staff_session_may_record_a_call(agent):
    client = Client(enforce_csrf_checks=False)
    client.force_login(agent)

    response = client.post("/api/v1/intake/calls", _call(), content_type="application/json")

    assert response.status_code == 201
