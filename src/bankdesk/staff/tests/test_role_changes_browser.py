"""The acceptance test for four eyes on roles, in a real browser against a real server: one
administrator asks for an agent to become a supervisor from the agent's page, a second one sees
the request with the role before and after and approves it; the first could not have."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bankdesk.conftest import Authenticator, browser_sign_in, off_the_browser_thread
from bankdesk.security.models import AuditEntry
from bankdesk.staff.choices import Role
from bankdesk.staff.models import User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def administrators(admin_user: User, make_staff: Callable[..., User]) -> dict[str, Any]:
    """Two administrators with their authenticators, set up before the browser starts."""
    second = make_staff("admin2", Role.ADMIN)
    User.objects.filter(pk=second.pk).update(display_name="第二管理员")
    second.refresh_from_db()
    return {
        "first": (admin_user, Authenticator(admin_user)),
        "second": (second, Authenticator(second)),
    }


def test_one_administrator_asks_and_another_approves_in_the_admin_screens(
    administrators: dict[str, Any], agent: User, server: str, browser: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    problems: list[str] = []
    first, first_phone = administrators["first"]
    second, second_phone = administrators["second"]

    asker = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = asker.new_page()
    page.on("pageerror", lambda error: problems.append(str(error)))
    browser_sign_in(page, server, first, first_phone)
    page.goto(f"{server}/admin/staff/user/{agent.pk}/change/")
    expect(page.locator(".field-role")).to_contain_text("客服专员")
    expect(page.locator('select[name="role"]')).to_have_count(0)
    page.screenshot(path=str(tmp_path / "0-person.png"), full_page=True)
    page.get_by_role("link", name="申请角色变更").click()
    expect(page.locator('select[name="user"]')).to_have_value(str(agent.pk))
    page.select_option('select[name="role_requested"]', "supervisor")
    page.fill('textarea[name="reason"]', "晋升为综合服务组主管（人力资源部2026年12号调令）")
    page.click('input[name="_save"]')
    expect(page.locator(".messagelist:not(.calendar-horizon)")).to_be_visible()
    row = page.locator("#result_list tbody tr").first
    expect(row).to_contain_text("待审批")
    row.locator("a").first.click()
    # The one who asked may withdraw, never approve.
    expect(page.locator(".role-change-decision")).to_contain_text("须由另一位管理员审批")
    expect(page.get_by_role("button", name="批准")).to_have_count(0)
    page.screenshot(path=str(tmp_path / "1-asked.png"), full_page=True)

    approver = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = approver.new_page()
    page.on("pageerror", lambda error: problems.append(str(error)))
    browser_sign_in(page, server, second, second_phone)
    page.goto(f"{server}/admin/staff/rolechangerequest/?status__exact=pending")
    page.locator("#result_list tbody tr a").first.click()
    expect(page.locator(".field-change_shown")).to_contain_text("客服专员 → 主管")
    expect(page.locator(".role-change-summary")).to_contain_text("客服专员")
    expect(page.locator(".role-change-summary")).to_contain_text("主管")
    expect(page.locator(".field-reason")).to_contain_text("人力资源部2026年12号调令")
    page.screenshot(path=str(tmp_path / "2-to-decide.png"), full_page=True)
    page.fill('textarea[name="note"]', "已核对调令")
    page.get_by_role("button", name="批准").click()
    expect(page.locator(".messagelist:not(.calendar-horizon)")).to_contain_text("已批准")
    expect(page.locator("#result_list tbody tr").first).to_contain_text("已批准")
    page.screenshot(path=str(tmp_path / "3-approved.png"), full_page=True)

    def outcome() -> tuple[str, list[tuple[str, str]]]:
        agent.refresh_from_db()
        steps = AuditEntry.objects.filter(action__startswith="staff.role_change").order_by(
            "sequence"
        )
        return agent.role, [(entry.action, entry.actor_name) for entry in steps]

    role, steps = off_the_browser_thread(outcome)
    assert role == Role.SUPERVISOR
    assert steps == [
        ("staff.role_change_request", "admin"),
        ("staff.role_change_approve", "admin2"),
        ("staff.role_change", "admin2"),
    ]
    assert not problems, problems
