"""Signing in to the console with a password: lockout, idle timeout, headers and the audit."""

from __future__ import annotations

import time

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from bankdesk.conftest import PASSWORD
from bankdesk.security.models import AuditEntry
from bankdesk.staff.services import staff_create

pytestmark = pytest.mark.django_db


def _sign_in(client, username, password=PASSWORD):
    return client.post("/", {"username": username, "password": password})


def test_an_agent_signs_in_with_a_password_alone_and_sees_home(client, agent):
    response = _sign_in(client, "agent")
    assert response.status_code == 302 and response.url == "/home/"
    response = client.get("/home/")
    assert response.status_code == 200 and "我的待办工单" in response.content.decode()


def test_signing_in_is_audited(client, agent):
    _sign_in(client, "agent")
    entry = AuditEntry.objects.get(action="staff.login")
    assert entry.actor == agent and entry.actor_name == "agent"
    assert (entry.object_type, entry.object_id) == ("staff.user", str(agent.pk))
    assert entry.fields == ["last_login"] and entry.origin_ip == "127.0.0.1"


def test_a_wrong_password_is_not_audited_as_a_sign_in(client, agent):
    _sign_in(client, "agent", "wrong password")
    assert not AuditEntry.objects.filter(action="staff.login").exists()


def test_the_failure_limit_locks_the_account_for_this_address(client, agent, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _sign_in(client, "agent", "wrong password").status_code == 200
    response = _sign_in(client, "agent", "wrong password")
    assert response.status_code == 429
    page = response.content.decode()
    assert "暂停登录" in page and "30 分钟后再试" in page
    # Now even the right password is refused, and nothing is signed in.
    response = _sign_in(client, "agent")
    assert response.status_code == 429
    assert client.get("/home/").status_code == 302
    assert not AuditEntry.objects.filter(action="staff.login").exists()


def test_the_lockout_is_per_username(client, agent, supervisor, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(client, "agent", "wrong password")
    response = _sign_in(client, "supervisor")
    assert response.status_code == 302 and response.url == "/mfa/"


def test_a_success_before_the_limit_starts_the_count_again(client, agent, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        _sign_in(client, "agent", "wrong password")
    _sign_in(client, "agent")
    client.post("/logout/")
    assert _sign_in(client, "agent", "wrong password").status_code == 200


def test_an_idle_session_is_signed_out(client, agent, settings):
    _sign_in(client, "agent")
    assert client.get("/home/").status_code == 200
    session = client.session
    session["bankdesk_last_seen"] = (
        int(time.time()) - settings.BANKDESK_IDLE_TIMEOUT_MINUTES * 60 - 1
    )
    session.save()
    response = client.get("/home/")
    assert response.status_code == 302 and response.url.startswith("/?next=")
    assert "_auth_user_id" not in client.session


def test_an_active_session_stays_signed_in(client, agent, settings):
    _sign_in(client, "agent")
    session = client.session
    session["bankdesk_last_seen"] = (
        int(time.time()) - settings.BANKDESK_IDLE_TIMEOUT_MINUTES * 60 + 30
    )
    session.save()
    assert client.get("/home/").status_code == 200


def test_signing_out_needs_a_post(client, agent):
    _sign_in(client, "agent")
    assert client.get("/logout/").status_code == 405
    assert client.get("/home/").status_code == 200
    response = client.post("/logout/")
    assert response.status_code == 302 and response.url == "/"
    assert client.get("/home/").status_code == 302


def test_a_half_signed_in_supervisor_can_sign_out(client, supervisor):
    _sign_in(client, "supervisor")
    assert "退出登录" in client.get("/mfa/enrol/").content.decode()
    response = client.post("/logout/")
    assert response.status_code == 302 and response.url == "/"
    assert client.get("/mfa/enrol/").status_code == 302


def _page_anonymous_sign_in(client, settings):
    return client.get("/")


def _page_home(client, settings):
    _sign_in(client, "agent")
    return client.get("/home/")


def _page_code(client, settings):
    TOTPDevice.objects.create(
        user=staff_create(username="boss", password=PASSWORD, role="supervisor"), confirmed=True
    )
    _sign_in(client, "boss")
    return client.get("/mfa/")


def _page_enrolment(client, settings):
    staff_create(username="boss", password=PASSWORD, role="supervisor")
    _sign_in(client, "boss")
    return client.get("/mfa/enrol/")


def _page_locked_out(client, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = _sign_in(client, "agent", "wrong password")
    return response


@pytest.mark.parametrize(
    "open_page",
    [
        _page_anonymous_sign_in,
        _page_home,
        _page_code,
        _page_enrolment,
        _page_locked_out,
    ],
)
def test_every_page_forbids_framing_and_inline_code(client, agent, settings, open_page):
    response = open_page(client, settings)
    assert response.status_code in {200, 429}
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["X-Frame-Options"] == "DENY"


def test_the_code_pages_are_never_cached(client, supervisor):
    _sign_in(client, "supervisor")
    assert "no-store" in client.get("/mfa/enrol/").headers["Cache-Control"]


def test_passwords_are_stored_with_argon2(client, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    user = staff_create(username="newcomer", password=PASSWORD)
    assert user.password.startswith("argon2$argon2id$")
    response = _sign_in(client, "newcomer")
    assert response.status_code == 302 and response.url == "/home/"


def test_a_supervisor_with_an_authenticator_signs_in_with_password_and_code(client, supervisor):
    device = TOTPDevice.objects.create(user=supervisor, name="authenticator", confirmed=True)
    _sign_in(client, "supervisor")
    code = f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"
    client.post("/mfa/", {"code": code})
    assert client.get("/home/").status_code == 200
    actions = list(AuditEntry.objects.filter(actor=supervisor).values_list("action", flat=True))
    assert actions == ["staff.login", "staff.mfa_verify"]


def test_the_locked_out_page_has_a_content_security_policy(client, agent, settings):
    response = _page_locked_out(client, settings)
    assert response.status_code == 429
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
