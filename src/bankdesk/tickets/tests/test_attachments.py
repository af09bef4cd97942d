"""Attachments: stored safely, downloaded only as files, never rendered by the browser."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from bankdesk.tickets.models import Attachment
from bankdesk.tickets.services import case_create, case_message_add

pytestmark = pytest.mark.django_db


@pytest.fixture
def message(agent, general_team):
    case = case_create(subject="对账单", channel="email", actor=agent, team=general_team)
    return case_message_add(case=case, direction="inbound", text="附件是对账单", actor=None)


def _upload(api, message, name, content, content_type):
    client = Client()
    return client.post(
        f"/api/v1/cases/{message.case_id}/messages/{message.pk}/attachments",
        {"file": SimpleUploadedFile(name, content, content_type=content_type)},
        headers=api.headers,
    )


def test_an_uploaded_file_comes_back_as_a_download(agent_api, message, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    response = _upload(
        agent_api, message, "对账单 2026-10.pdf", b"%PDF-1.7 test", "application/pdf"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["filename"] == "对账单 2026-10.pdf"
    assert body["content_type"] == "application/pdf"
    stored = Attachment.objects.get()
    assert "对账单" not in stored.file.name  # stored under a random name
    download = Client().get(
        f"/api/v1/cases/{message.case_id}/attachments/{body['id']}", headers=agent_api.headers
    )
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment;")
    assert b"".join(download.streaming_content) == b"%PDF-1.7 test"
    assert (
        agent_api.get(f"/cases/{message.case_id}/messages").json_body[0]["attachments"][0]["id"]
        == body["id"]
    )


@pytest.mark.parametrize(
    ("name", "declared"),
    [
        ("page.html", "text/html"),
        ("logo.svg", "image/svg+xml"),
        ("x.bin", "text/html; charset=utf-8"),
    ],
)
def test_html_and_svg_are_never_served_as_what_they_claim(
    agent_api, message, settings, tmp_path, name, declared
):
    settings.MEDIA_ROOT = tmp_path
    body = _upload(agent_api, message, name, b"<script>alert(1)</script>", declared).json()
    assert body["content_type"] == "application/octet-stream"
    download = Client().get(
        f"/api/v1/cases/{message.case_id}/attachments/{body['id']}", headers=agent_api.headers
    )
    assert download["Content-Type"] == "application/octet-stream"
    assert download["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in download["Content-Security-Policy"]


def test_path_tricks_in_file_names_are_neutralised(agent_api, message, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    body = _upload(agent_api, message, "../../etc/passwd", b"x", "text/plain").json()
    assert body["filename"] == "passwd"
    assert all(p.parent == tmp_path / p.relative_to(tmp_path).parent for p in tmp_path.rglob("*"))


def test_an_empty_file_is_refused(agent_api, message, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    response = _upload(agent_api, message, "empty.txt", b"", "text/plain")
    assert response.status_code == 422
    assert Attachment.objects.count() == 0


def test_attachments_of_other_cases_are_not_found(agent_api, message, agent, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    body = _upload(agent_api, message, "a.txt", b"hello", "text/plain").json()
    other = case_create(subject="其他", channel="phone", actor=agent)
    response = Client().get(
        f"/api/v1/cases/{other.pk}/attachments/{body['id']}", headers=agent_api.headers
    )
    assert response.status_code == 404


def test_a_multipart_body_without_a_boundary_is_a_400(agent_api, message):
    response = Client().generic(
        "POST",
        f"/api/v1/cases/{message.case_id}/messages/{message.pk}/attachments",
        b"x",
        content_type="multipart/form-data",
        headers=agent_api.headers,
    )
    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"
    assert Attachment.objects.count() == 0


def test_a_file_is_encrypted_on_disk_and_served_whole_only_to_who_may_see_the_case(
    agent_api, message, settings, tmp_path, make_staff, api_for, complaint_team
):
    settings.MEDIA_ROOT = tmp_path
    # A scanned ID card of a few chunks, with text an attacker with the disk would look for.
    content = b"%PDF-1.7 ID 11010519491231002X " + bytes(range(256)) * 1200
    body = _upload(agent_api, message, "身份证.pdf", content, "application/pdf").json()

    on_disk = (tmp_path / Attachment.objects.get().file.name).read_bytes()
    assert on_disk.startswith(b"BDF1") and len(on_disk) > len(content)
    assert b"11010519491231002X" not in on_disk and bytes(range(256)) not in on_disk
    url = f"/api/v1/cases/{message.case_id}/attachments/{body['id']}"
    download = Client().get(url, headers=agent_api.headers)
    assert download.status_code == 200
    assert download["Content-Length"] == str(len(content))
    assert b"".join(download.streaming_content) == content
    outsider = api_for(make_staff("cards-agent", "agent", [complaint_team]))
    assert Client().get(url, headers=outsider.headers).status_code == 404
