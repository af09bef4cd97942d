"""The audit log screen (/audit/): auditors read and narrow the log, in Chinese by default;
nobody else sees it. The last test drives it in a real browser, second factor included."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.db import transaction
from django.test import Client
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from bankdesk.conftest import PASSWORD, off_the_browser_thread
from bankdesk.console.tests.test_live_screen import with_second_factor
from bankdesk.security.audit import audit_chain, audit_record
from bankdesk.security.models import AuditEntry
from bankdesk.staff.models import User
from bankdesk.tickets.services import case_create, case_status_change


def _a_morning(agent: User, supervisor: User) -> dict[str, object]:
    """Two cases and a reveal, after everything the fixtures set up."""
    later = timezone.now() + timedelta(hours=1)
    with time_machine.travel(later, tick=False):
        first = case_create(subject="转账失败", channel="app", actor=agent)
        second = case_create(subject="信用卡年费", channel="phone", actor=supervisor)
        case_status_change(case=second, status="open", actor=supervisor)
        with transaction.atomic():
            audit_record(
                actor=supervisor,
                action="customer.reveal",
                object_type="customers.customer",
                object_id=7,
                fields=["phone"],
                reason="客户要求回电",
            )
    audit_chain()
    return {"first": first, "second": second, "at": later}


def _signed_in(client: Client, user: User) -> Client:
    client.force_login(user)
    with_second_factor(client, user)
    return client


@pytest.mark.django_db
def test_an_auditor_reads_the_log_in_chinese_newest_first(client, auditor, agent, supervisor):
    _a_morning(agent, supervisor)

    page = _signed_in(client, auditor).get("/audit/")

    html = page.content.decode()
    assert page.status_code == 200
    assert "审计日志" in html and "操作人" in html and "链序号" in html
    assert html.index("customer.reveal") < html.index("case.status_changed")
    assert "客户要求回电" in html and "phone" in html
    assert 'href="/audit/"' in html  # the header leads auditors here


@pytest.mark.django_db
def test_an_auditor_narrows_the_log_by_who_what_which_object_and_day(
    client, auditor, agent, supervisor
):
    morning = _a_morning(agent, supervisor)
    _signed_in(client, auditor)
    day = timezone.localtime(morning["at"]).date().isoformat()

    by_agent = client.get("/audit/", {"actor": "agent", "action": "case.created"})
    one_case = client.get(
        "/audit/", {"object_type": "tickets.case", "object_id": morning["second"].pk}
    )
    that_day = client.get("/audit/", {"since": day, "until": day, "action": "customer.reveal"})
    day_before = client.get("/audit/", {"until": "2000-01-01"})

    rows = by_agent.content.decode().count("<tr data-entry-id")
    assert rows == AuditEntry.objects.filter(actor_name="agent", action="case.created").count()
    assert "case.status_changed" not in by_agent.content.decode()
    assert one_case.content.decode().count("<tr data-entry-id") == 2
    assert that_day.content.decode().count("<tr data-entry-id") == 1
    assert "没有符合条件的记录" in day_before.content.decode()


@pytest.mark.django_db
def test_the_log_pages_on_with_its_filters_kept(client, auditor, agent, supervisor, monkeypatch):
    monkeypatch.setattr("bankdesk.console.audit.PAGE_SIZE", 2)
    _a_morning(agent, supervisor)
    _signed_in(client, auditor)

    first = client.get("/audit/", {"object_type": "tickets.case"}).content.decode()
    next_link = first.split('rel="next" href="')[1].split('"')[0].replace("&amp;", "&")
    second = client.get(next_link).content.decode()

    assert "object_type=tickets.case" in next_link and "cursor=" in next_link
    assert second.count("<tr data-entry-id") >= 1
    assert "customer.reveal" not in second


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        {"cursor": "not-one-of-ours"},
        {"since": "2026-10-02", "until": "2026-10-01"},
        {"actor": "\x00"},
    ],
)
def test_filters_it_cannot_use_are_explained_not_failed(client, auditor, query):
    page = _signed_in(client, auditor).get("/audit/", query)
    assert page.status_code == 200
    assert 'class="error"' in page.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["agent", "supervisor", "complaint_officer", "admin_user"])
def test_nobody_else_sees_the_log(client, request, role):
    user = request.getfixturevalue(role)
    page = _signed_in(client, user).get("/audit/")
    assert page.status_code == 403
    assert 'href="/audit/"' not in client.get("/home/").content.decode()


@pytest.mark.django_db
def test_the_log_needs_a_signed_in_auditor_who_gave_the_second_factor(client, auditor):
    assert client.get("/audit/")["Location"].startswith("/?next=")
    client.force_login(auditor)
    assert client.get("/audit/")["Location"].startswith("/mfa/")


# -- in a real browser -------------------------------------------------------------------------


@pytest.fixture
def auditor_with_authenticator(auditor: User) -> TOTPDevice:
    return TOTPDevice.objects.create(user=auditor, name="手机", confirmed=True)


@pytest.fixture
def morning(agent: User, supervisor: User) -> dict[str, object]:
    return _a_morning(agent, supervisor)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_auditor_signs_in_and_filters_the_log_in_a_browser(
    auditor, auditor_with_authenticator, morning, server, browser, tmp_path: Path
):
    from playwright.sync_api import expect

    page = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}).new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "response",
        lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )

    page.goto(f"{server}/audit/")
    page.fill('input[name="username"]', auditor.username)
    page.fill('input[name="password"]', PASSWORD)
    page.press('input[name="password"]', "Enter")
    page.wait_for_url(f"{server}/mfa/**")
    code = off_the_browser_thread(
        lambda: f"{totp(TOTPDevice.objects.get(pk=auditor_with_authenticator.pk).bin_key):06d}"
    )
    page.fill('input[name="code"]', code)
    page.press('input[name="code"]', "Enter")
    page.wait_for_url(f"{server}/audit/")

    expect(page.locator("h1")).to_have_text("审计日志")
    page.fill('input[name="action"]', "customer.reveal")
    page.click(".filter-actions button")
    rows = page.locator("table.audit tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("客户要求回电")
    expect(rows.first).to_contain_text("supervisor")
    page.screenshot(path=str(tmp_path / "audit-log.png"), full_page=True)
    assert not problems, problems
