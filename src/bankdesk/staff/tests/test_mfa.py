"""The second factor: who owes one, setting up an authenticator, and checking its codes."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib import admin
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from bankdesk.conftest import PASSWORD
from bankdesk.security.models import AuditEntry
from bankdesk.staff.choices import Role
from bankdesk.staff.mfa import MfaAdminSite, mfa_required_for

pytestmark = pytest.mark.django_db


def _code(device: TOTPDevice) -> str:
    """The code the person's phone shows now."""
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def _wrong_code(device: TOTPDevice) -> str:
    """A code the device would refuse now: not one of the steps its tolerance accepts."""
    accepted = {
        f"{totp(device.bin_key, device.step, device.t0, device.digits, drift):06d}"
        for drift in range(-device.tolerance - 1, device.tolerance + 2)
    }
    return next(code for code in ("111111", "222222", "333333", "444444") if code not in accepted)


def _sign_in(client, username):
    return client.post("/", {"username": username, "password": PASSWORD})


def _confirmed_device(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)


def _pending_device(user) -> TOTPDevice:
    return TOTPDevice.objects.get(user=user, confirmed=False)


def _forget_throttle(device: TOTPDevice) -> None:
    """As if the person had waited out the back-off after a wrong code."""
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_timestamp=timezone.now() - timedelta(hours=1)
    )


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (Role.AGENT, False),
        (Role.SUPERVISOR, True),
        (Role.COMPLAINT_OFFICER, True),
        (Role.AUDITOR, True),
        (Role.ADMIN, True),
    ],
)
def test_every_role_but_agent_needs_a_second_factor(make_staff, role, expected):
    assert mfa_required_for(make_staff("someone", role)) is expected


def test_agents_need_a_second_factor_when_the_bank_turns_it_on(agent, settings):
    settings.BANKDESK_MFA_FOR_AGENTS = True
    assert mfa_required_for(agent) is True


def test_an_agent_with_django_staff_rights_needs_a_second_factor(agent):
    agent.is_staff = True
    assert mfa_required_for(agent) is True


def test_a_supervisor_without_an_authenticator_is_sent_to_set_one_up(client, supervisor):
    response = _sign_in(client, "supervisor")
    assert response.status_code == 302 and response.url == "/mfa/"
    response = client.get("/mfa/")
    assert response.status_code == 302 and response.url == "/mfa/enrol/"
    page = client.get("/mfa/enrol/").content.decode()
    device = _pending_device(supervisor)
    assert "<svg" in page and 'class="qr"' in page
    assert device.config_url.split("secret=")[1][:8] in page.replace(" ", "")
    assert not TOTPDevice.objects.filter(user=supervisor, confirmed=True).exists()


def test_the_enrolment_page_draws_the_qr_code_without_scripts_styles_or_other_sites(
    client, supervisor
):
    _sign_in(client, "supervisor")
    page = client.get("/mfa/enrol/").content.decode()
    assert "<script" not in page
    assert "style=" not in page
    assert not re.search(r"""(src|href)="(https?:)?//""", page)


def test_reloading_the_enrolment_page_keeps_the_same_secret(client, supervisor):
    _sign_in(client, "supervisor")
    client.get("/mfa/enrol/")
    first = _pending_device(supervisor).key
    client.get("/mfa/enrol/")
    assert _pending_device(supervisor).key == first
    assert TOTPDevice.objects.filter(user=supervisor).count() == 1


def test_a_supervisor_who_has_not_given_a_code_cannot_open_the_home_page(client, supervisor):
    _sign_in(client, "supervisor")
    response = client.get("/home/")
    assert response.status_code == 302 and response.url == "/mfa/?next=%2Fhome%2F"


def test_a_supervisor_who_has_not_given_a_code_cannot_use_the_api(client, supervisor):
    _sign_in(client, "supervisor")
    assert client.get("/api/v1/staff/me").status_code == 401


def test_a_supervisor_sets_up_an_authenticator_with_a_code_from_it_and_then_sees_home(
    client, supervisor
):
    _sign_in(client, "supervisor")
    client.get("/mfa/enrol/")
    device = _pending_device(supervisor)
    response = client.post("/mfa/enrol/", {"code": _code(device)})
    assert response.status_code == 302 and response.url == "/home/"
    device.refresh_from_db()
    assert device.confirmed
    response = client.get("/home/")
    assert response.status_code == 200 and "我的待办工单" in response.content.decode()
    assert client.get("/api/v1/staff/me").status_code == 200


def test_a_wrong_code_does_not_confirm_the_authenticator(client, supervisor):
    _sign_in(client, "supervisor")
    client.get("/mfa/enrol/")
    device = _pending_device(supervisor)
    response = client.post("/mfa/enrol/", {"code": _wrong_code(device)})
    assert response.status_code == 200
    assert "验证码不正确或已使用过" in response.content.decode()
    device.refresh_from_db()
    assert not device.confirmed and device.throttling_failure_count == 1
    assert client.get("/home/").status_code == 302


def test_someone_with_an_authenticator_cannot_set_up_another_with_the_password_alone(
    client, supervisor
):
    _confirmed_device(supervisor)
    _sign_in(client, "supervisor")
    response = client.get("/mfa/enrol/")
    assert response.status_code == 302 and response.url == "/mfa/"
    response = client.post("/mfa/enrol/", {"code": "123456"})
    assert response.status_code == 302 and response.url == "/mfa/"
    assert TOTPDevice.objects.filter(user=supervisor).count() == 1


def test_a_supervisor_with_an_authenticator_must_enter_the_current_code(client, supervisor):
    device = _confirmed_device(supervisor)
    response = _sign_in(client, "supervisor")
    assert response.status_code == 302 and response.url == "/mfa/"
    page = client.get("/mfa/").content.decode()
    assert "输入动态验证码" in page and 'autocomplete="one-time-code"' in page
    response = client.post("/mfa/", {"code": _code(device)})
    assert response.status_code == 302 and response.url == "/home/"
    assert client.get("/home/").status_code == 200


def test_a_code_typed_with_a_space_is_accepted(client, supervisor):
    device = _confirmed_device(supervisor)
    _sign_in(client, "supervisor")
    code = _code(device)
    response = client.post("/mfa/", {"code": f"{code[:3]} {code[3:]}"})
    assert response.status_code == 302 and response.url == "/home/"


def test_a_wrong_code_is_refused_with_a_message_and_counted(client, supervisor):
    device = _confirmed_device(supervisor)
    _sign_in(client, "supervisor")
    response = client.post("/mfa/", {"code": _wrong_code(device)})
    assert response.status_code == 200
    assert "验证码不正确或已使用过" in response.content.decode()
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    assert client.get("/home/").status_code == 302


def test_something_that_is_not_a_code_is_refused_without_being_counted(client, supervisor):
    device = _confirmed_device(supervisor)
    _sign_in(client, "supervisor")
    response = client.post("/mfa/", {"code": "12ab"})
    assert "请输入身份验证器应用显示的 6 位验证码" in response.content.decode()
    device.refresh_from_db()
    assert device.throttling_failure_count == 0


def test_right_after_a_wrong_code_even_the_right_code_must_wait(client, supervisor):
    device = _confirmed_device(supervisor)
    _sign_in(client, "supervisor")
    client.post("/mfa/", {"code": _wrong_code(device)})
    response = client.post("/mfa/", {"code": _code(device)})
    assert response.status_code == 200
    assert "错误次数过多" in response.content.decode()
    assert client.get("/home/").status_code == 302
    _forget_throttle(device)
    response = client.post("/mfa/", {"code": _code(device)})
    assert response.status_code == 302 and response.url == "/home/"


def test_a_code_cannot_be_used_twice(client, supervisor):
    device = _confirmed_device(supervisor)
    _sign_in(client, "supervisor")
    code = _code(device)
    client.post("/mfa/", {"code": code})
    client.post("/logout/")
    _sign_in(client, "supervisor")
    response = client.post("/mfa/", {"code": code})
    assert response.status_code == 200
    assert client.get("/home/").status_code == 302


def test_wrong_codes_up_to_the_failure_limit_sign_out_and_lock_the_account(
    client, supervisor, settings
):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # only the lockout under test here, not the back-off
    device = _confirmed_device(supervisor)
    _sign_in(client, "supervisor")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert client.post("/mfa/", {"code": _wrong_code(device)}).status_code == 200
    response = client.post("/mfa/", {"code": _wrong_code(device)})
    assert response.status_code == 429
    assert "暂停登录" in response.content.decode()
    assert client.get("/mfa/").status_code == 302  # signed out: back to the sign-in page
    assert _sign_in(client, "supervisor").status_code == 429


def test_agents_need_a_code_too_once_the_bank_turns_it_on(client, agent, settings):
    settings.BANKDESK_MFA_FOR_AGENTS = True
    response = _sign_in(client, "agent")
    assert response.status_code == 302 and response.url == "/mfa/"
    assert client.get("/home/").status_code == 302
    client.get("/mfa/enrol/")
    client.post("/mfa/enrol/", {"code": _code(_pending_device(agent))})
    assert client.get("/home/").status_code == 200


def test_the_page_asked_for_is_shown_after_the_code(client, supervisor):
    device = _confirmed_device(supervisor)
    response = client.post(
        "/", {"username": "supervisor", "password": PASSWORD, "next": "/home/?page=2"}
    )
    assert response.status_code == 302 and response.url == "/mfa/?next=%2Fhome%2F%3Fpage%3D2"
    response = client.post("/mfa/", {"code": _code(device), "next": "/home/?page=2"})
    assert response.url == "/home/?page=2"


def test_a_next_address_on_another_site_is_ignored(client, supervisor):
    device = _confirmed_device(supervisor)
    _sign_in(client, "supervisor")
    response = client.post("/mfa/", {"code": _code(device), "next": "https://evil.example/"})
    assert response.url == "/home/"


def test_staff_who_owe_no_code_are_sent_home_from_the_code_pages(client, agent):
    _sign_in(client, "agent")
    assert client.get("/mfa/").url == "/home/"
    assert client.get("/mfa/enrol/").url == "/home/"
    assert not TOTPDevice.objects.filter(user=agent).exists()


def test_the_code_pages_need_a_password_first(client):
    response = client.get("/mfa/")
    assert response.status_code == 302 and response.url.startswith("/?next=")


def test_setting_up_an_authenticator_is_audited_as_enrolment_and_verification(client, supervisor):
    _sign_in(client, "supervisor")
    client.get("/mfa/enrol/")
    client.post("/mfa/enrol/", {"code": _code(_pending_device(supervisor))})
    actions = list(AuditEntry.objects.filter(actor=supervisor).values_list("action", flat=True))
    assert actions == ["staff.login", "staff.mfa_enrol", "staff.mfa_verify"]
    entry = AuditEntry.objects.get(action="staff.mfa_enrol")
    assert (entry.object_type, entry.object_id) == ("staff.user", str(supervisor.pk))


def test_giving_the_code_is_audited(client, supervisor):
    device = _confirmed_device(supervisor)
    _sign_in(client, "supervisor")
    client.post("/mfa/", {"code": _code(device)})
    entry = AuditEntry.objects.get(action="staff.mfa_verify")
    assert entry.actor == supervisor and entry.object_id == str(supervisor.pk)
    assert entry.origin_ip == "127.0.0.1"


def test_a_wrong_code_is_not_audited_as_a_verification(client, supervisor):
    device = _confirmed_device(supervisor)
    _sign_in(client, "supervisor")
    client.post("/mfa/", {"code": _wrong_code(device)})
    assert not AuditEntry.objects.filter(action="staff.mfa_verify").exists()


@pytest.mark.parametrize(
    ("accept", "expected"),
    [("en", "Enter your verification code"), ("zh-Hant-TW", "輸入動態驗證碼")],
)
def test_the_code_page_follows_the_browser_language(client, supervisor, accept, expected):
    _confirmed_device(supervisor)
    _sign_in(client, "supervisor")
    page = client.get("/mfa/", headers={"Accept-Language": accept}).content.decode()
    assert expected in page


def test_the_admin_site_refuses_staff_who_owe_a_code(client, admin_user, monkeypatch):
    # config/urls.py installs this class on admin.site; here it is swapped in for the test.
    monkeypatch.setattr(admin.site, "__class__", MfaAdminSite)
    device = _confirmed_device(admin_user)
    _sign_in(client, "admin")
    response = client.get("/admin/")
    assert response.status_code == 302 and response.url.startswith("/admin/login/")
    client.post("/mfa/", {"code": _code(device)})
    assert client.get("/admin/").status_code == 200


def test_the_admin_sign_in_page_sends_people_to_the_console_sign_in(rf):
    request = rf.get("/admin/login/", {"next": "/admin/staff/user/"})
    request.user = AnonymousUser()
    response = MfaAdminSite().login(request)
    assert response.status_code == 302 and response.url == "/?next=/admin/staff/user/"


def test_giving_the_code_starts_a_new_session_key(client, supervisor):
    device = _confirmed_device(supervisor)
    _sign_in(client, "supervisor")
    before = client.session.session_key
    client.post("/mfa/", {"code": _code(device)})
    assert client.session.session_key != before
    assert client.get("/home/").status_code == 200
