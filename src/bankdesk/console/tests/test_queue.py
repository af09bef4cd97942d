"""The queue at /cases/: filters in the query string, keyset pages, views with counts, bulk
changes, saved views and the top bar's search."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from bankdesk.conftest import sign_in_with_second_factor
from bankdesk.console.models import SavedView
from bankdesk.sla.models import SlaClock
from bankdesk.sla.services import TargetSpec
from bankdesk.sla.tests.policies import standard_policy_create
from bankdesk.staff.choices import Role
from bankdesk.tickets.models import Case
from bankdesk.tickets.services import case_assign, case_create, case_status_change

pytestmark = pytest.mark.django_db


def _case(subject: str, team, **kwargs) -> Case:
    channel = kwargs.pop("channel", "phone")
    return case_create(subject=subject, channel=channel, team=team, actor=None, **kwargs)


def _numbers(html: str, cases: list[Case]) -> list[str]:
    return [case.number for case in cases if case.number in html]


def test_the_queue_lists_what_the_filters_in_the_link_ask_for(client, agent, general_team):
    mine = _case("网银转账失败", general_team, assignee=agent, priority="high")
    nobodys = _case("信用卡还款", general_team, channel="wechat")
    client.force_login(agent)

    everything = client.get("/cases/").content.decode()
    assert _numbers(everything, [mine, nobodys]) == [mine.number, nobodys.number]
    assert "队列" in everything or "工单" in everything

    assert _numbers(client.get("/cases/?assignee=me").content.decode(), [mine, nobodys]) == [
        mine.number
    ]
    assert _numbers(client.get("/cases/?assignee=nobody").content.decode(), [mine, nobodys]) == [
        nobodys.number
    ]
    assert _numbers(client.get("/cases/?channel=wechat").content.decode(), [mine, nobodys]) == [
        nobodys.number
    ]
    assert _numbers(client.get("/cases/?priority=high").content.decode(), [mine, nobodys]) == [
        mine.number
    ]


def test_bad_filters_are_named_and_list_nothing(client, agent, general_team):
    _case("网银转账失败", general_team)
    client.force_login(agent)
    response = client.get(
        "/cases/?status=lost&created_from=2026-12-02&created_to=2026-11-01&assignee=someone"
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "没有符合条件的工单" in page
    assert page.count('class="error"') >= 3


def test_the_queue_pages_through_every_case_once(client, agent, general_team):
    cases = [_case(f"工单 {n}", general_team) for n in range(53)]
    client.force_login(agent)
    first = client.get("/cases/?sort=oldest")
    seen = _numbers(first.content.decode(), cases)
    assert len(seen) == 50 and seen[0] == cases[0].number
    next_link = first.context["next_link"]
    rest = _numbers(client.get(f"/cases/{next_link}").content.decode(), cases)
    assert sorted(seen + rest) == sorted(c.number for c in cases)


def test_each_row_shows_the_next_sla_due_time_in_its_state(client, agent, general_team):
    standard_policy_create(
        TargetSpec(name="首次响应", metric="first_response", minutes=30, basis="calendar")
    )
    late, soon, fine = (_case(f"工单 {n}", general_team) for n in range(3))
    now = timezone.now()
    # The clocks as they stand after time has passed: one due, one past its warning.
    SlaClock.objects.filter(case=late).update(
        due_at=now - timedelta(minutes=5), warn_at=now - timedelta(minutes=10)
    )
    SlaClock.objects.filter(case=soon).update(
        due_at=now + timedelta(minutes=5), warn_at=now - timedelta(minutes=1)
    )
    client.force_login(agent)

    page = client.get("/cases/").content.decode()
    assert page.count('class="due due-breached"') == 1
    assert page.count('class="due due-at_risk"') == 1
    assert page.count('class="due due-on_track"') == 1
    assert _numbers(client.get("/cases/?sla=breached").content.decode(), [late, soon, fine]) == [
        late.number
    ]
    assert _numbers(client.get("/cases/?sla=at_risk").content.decode(), [late, soon, fine]) == [
        soon.number
    ]


def test_the_navigation_counts_each_view_for_the_user(client, agent, general_team):
    _case("网银转账失败", general_team, assignee=agent)
    _case("信用卡还款", general_team)
    client.force_login(agent)
    counts = client.get("/cases/counts/").json()
    assert counts["mine"] == "1" and counts["unassigned"] == "1" and counts["team"] == "2"
    assert set(counts) == {"mine", "team", "unassigned", "waiting", "at_risk", "breached", "recent"}


def test_bulk_assign_to_me_and_status_change_name_each_case_refused(client, agent, general_team):
    first = _case("网银转账失败", general_team)
    second = _case("信用卡还款", general_team)
    client.force_login(agent)
    response = client.post(
        "/cases/bulk/",
        {"action": "assign_me", "case": [first.pk, second.pk], "back": "/cases/"},
        follow=True,
    )
    assert "已修改 2 个工单" in response.content.decode()
    assert set(Case.objects.values_list("assignee_id", flat=True)) == {agent.pk}

    case_status_change(case=first, status="open", actor=agent)
    response = client.post(
        "/cases/bulk/",
        {"action": "status", "status": "pending_customer", "case": [first.pk, second.pk]},
        follow=True,
    )
    page = response.content.decode()
    assert "已修改 1 个工单" in page
    assert f"#{second.pk}" in page and "无法从当前状态改为该状态" in page


def test_an_agent_may_not_bulk_assign_to_someone_else(client, agent, make_staff, general_team):
    other = make_staff("agent2", Role.AGENT, [general_team])
    case = _case("网银转账失败", general_team)
    client.force_login(agent)
    page = client.post(
        "/cases/bulk/", {"action": "assign", "assign": other.pk, "case": [case.pk]}, follow=True
    ).content.decode()
    assert "已修改" not in page
    case.refresh_from_db()
    assert case.assignee_id is None


def test_a_saved_view_is_the_link_of_its_filters(client, agent, general_team):
    client.force_login(agent)
    client.post("/cases/views/", {"name": "我的微信", "query": "channel=wechat&assignee=me"})
    view = SavedView.objects.get(user=agent)
    assert view.query == "channel=wechat&assignee=me"
    page = client.get("/cases/").content.decode()
    assert "我的微信" in page and "/cases/?channel=wechat&amp;assignee=me" in page

    bad = client.post("/cases/views/", {"name": "坏的", "query": "status=lost"}, follow=True)
    assert "请先修正筛选条件" in bad.content.decode()
    assert SavedView.objects.filter(user=agent).count() == 1


def test_search_opens_a_case_by_number_and_finds_a_customer_by_phone(
    client, agent, general_team, customer
):
    case = _case("网银转账失败", general_team, customer=customer)
    client.force_login(agent)
    opened = client.get("/search/", {"q": case.number})
    assert opened.status_code == 302 and opened.url == f"/cases/{case.pk}/"

    found = client.get("/search/", {"q": "13812345678"}).content.decode()
    assert "王小明" in found and f"/cases/?customer={customer.pk}" in found
    assert "王小明" in client.get("/search/", {"q": "wang.xm@example.cn"}).content.decode()
    assert "网银转账失败" in client.get("/search/", {"q": "转账"}).content.decode()
    nothing = client.get("/search/", {"q": "没有这个"}).content.decode()
    assert "王小明" not in nothing and "没有客户" in nothing


def test_customers_are_found_by_their_identifiers_alone(
    client, agent, admin_user, general_team, customer
):
    _case("网银转账失败", general_team, customer=customer)
    client.force_login(agent)
    found = client.get("/customers/", {"q": "13812345678"}).content.decode()
    assert "查找客户" in found and f'href="/customers/{customer.pk}/"' in found
    assert "网银转账失败" not in found  # the subject search is the top bar's, not this page's
    assert "王小明" not in client.get("/customers/", {"q": "转账"}).content.decode()
    sign_in_with_second_factor(client, admin_user)  # configures bankdesk, reads no customers
    assert client.get("/customers/", {"q": "13812345678"}).status_code == 403


def test_a_traditional_chinese_reader_sees_subjects_in_traditional_script(
    client, agent, general_team
):
    case = _case("网银转账失败", general_team)
    client.force_login(agent)
    hant = {"Accept-Language": "zh-hant"}
    for path in ("/cases/", f"/cases/{case.pk}/", "/search/?q=转账"):
        page = client.get(path, headers=hant).content.decode()
        assert "網銀轉賬失敗" in page, path
        assert "网银转账失败" not in page, path
    assert "网银转账失败" in client.get("/cases/").content.decode()  # 简体 as written


def test_the_navigation_offers_each_role_what_it_works_with(client, agent, admin_user):
    client.force_login(agent)
    page = client.get("/macros/").content.decode()
    assert "全部工单" in page and "查找客户" in page and 'data-socket="/ws/staff/"' in page
    assert "/manage/staff/" not in page and "/manage/knowledge/" in page  # agents write drafts
    sign_in_with_second_factor(client, admin_user)
    page = client.get("/manage/staff/").content.decode()
    # Administrators configure bankdesk and read no cases or customers: no views, no counts.
    assert "全部工单" not in page and "查找客户" not in page and "data-counts" not in page
    assert "/manage/staff/" in page and "/manage/routing/" in page


def test_presence_is_set_from_the_top_bar(client, agent):
    client.force_login(agent)
    client.post("/presence/", {"presence": "available", "next": "/cases/"})
    agent.refresh_from_db()
    assert agent.presence == "available"
    page = client.post("/presence/", {"presence": "asleep"}, follow=True).content.decode()
    agent.refresh_from_db()
    assert agent.presence == "available" and "请选择" in page


def test_the_queue_needs_a_signed_in_member_of_staff(client):
    assert client.get("/cases/").status_code == 302
    assert client.get("/cases/counts/").status_code == 302


def test_assigning_keeps_the_case_in_the_team(client, supervisor, agent, general_team):
    case = _case("网银转账失败", general_team)
    sign_in_with_second_factor(client, supervisor)
    page = client.post(
        "/cases/bulk/", {"action": "assign", "assign": agent.pk, "case": [case.pk]}, follow=True
    ).content.decode()
    assert "已修改 1 个工单" in page
    case.refresh_from_db()
    assert case.assignee_id == agent.pk and case.team_id == general_team.pk
    case_assign(case=case, team=general_team, assignee=None, actor=supervisor)


def test_the_queue_sorts_by_running_deadline_and_pages_on_it(client, agent, general_team):
    from bankdesk.tickets.access import case_page_for
    from bankdesk.tickets.selectors import CaseFilters, PageOrder

    standard_policy_create(
        TargetSpec(name="首次响应", metric="first_response", minutes=60, basis="calendar")
    )
    cases = [_case(f"工单 {n}", general_team) for n in range(4)]
    # The second waits on the customer: its clock pauses and it has no running deadline.
    case_status_change(case=cases[1], status="open", actor=agent)
    case_status_change(case=cases[1], status="pending_customer", actor=agent)
    for case in cases:
        case.refresh_from_db()
    assert cases[1].sla_due_at is None
    assert [case.sla_due_at for case in cases[::2]] == [
        SlaClock.objects.get(case=case).due_at for case in cases[::2]
    ]
    # The last one opened is the most urgent (a policy change made its clock overdue).
    overdue = timezone.now() - timedelta(minutes=1)
    SlaClock.objects.filter(case=cases[3]).update(due_at=overdue)
    Case.objects.filter(pk=cases[3].pk).update(sla_due_at=overdue)
    case_status_change(case=cases[1], status="open", actor=agent)  # back from the customer
    cases[1].refresh_from_db()
    assert cases[1].sla_due_at == SlaClock.objects.get(case=cases[1]).due_at
    case_status_change(case=cases[1], status="pending_customer", actor=agent)
    running = [cases[3], cases[0], cases[2]]
    assert all(case.sla_due_at is not None for case in running)
    client.force_login(agent)

    page = client.get("/cases/?sort=due").content.decode()
    shown = [
        case.number
        for case in sorted(cases, key=lambda c: page.find(c.number))
        if case.number in page
    ]
    assert shown == [case.number for case in running]

    # Keyset pages of one: every running case once, in deadline order.
    seen, cursor = [], None
    while True:
        one = case_page_for(
            agent, filters=CaseFilters(), cursor=cursor, limit=1, order=PageOrder.DUE
        )
        seen += [case.number for case in one.items]
        if not one.next_cursor:
            break
        cursor = one.next_cursor
    assert seen == [case.number for case in running]
