"""The wallboard at /wallboard/: the figures equal a hand count of a small centre, for the whole
centre and for one team; who may look; and, in a real browser, the numbers change on the wall
within a refresh and a lost connection is said plainly until it comes back."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from bankdesk.analytics.wallboard import WallFigures, wall_tiles
from bankdesk.conftest import (
    Authenticator,
    browser_sign_in,
    off_the_browser_thread,
    screenshot,
    sign_in_with_second_factor,
)
from bankdesk.sla.services import TargetSpec
from bankdesk.sla.tests.policies import standard_policy_create
from bankdesk.staff.choices import Role
from bankdesk.staff.models import Team, User
from bankdesk.staff.services import staff_presence_set, staff_work_set, team_create
from bankdesk.tickets.models import Case
from bankdesk.tickets.services import case_create, case_message_add, case_status_change

DATA = "/wallboard/data/"


@dataclass
class Centre:
    """Two teams at work: 综合服务组 (general) and 信用卡组 (cards)."""

    general: Team
    cards: Team
    agent: User
    cards_agent: User


@pytest.fixture
def cards_team(db: None) -> Team:
    return team_create(code="cards", name="信用卡组")


@pytest.fixture
def centre(make_staff, general_team: Team, cards_team: Team, agent: User, supervisor) -> Centre:
    """By hand, as the wall should count it:

    综合服务组 — active: 4 (a phone case past its first-response deadline, held, unanswered for
    90 minutes; an e-mail past its warning, nobody holding it, 40 minutes old; a web chat just
    in, nobody holding it; an answered case three hours old, held). Plus one resolved case.
    信用卡组 — active: 2 (a held phone case; a WeChat chat nobody holds).
    People: the agent available with room; the cards agent available and full (capacity 1);
    a colleague away; another offline; someone available in no team (not on this wall).
    """
    standard_policy_create(
        TargetSpec(
            name="首次响应",
            metric="first_response",
            minutes=60,
            basis="calendar",
            warning_percent=50,
        )
    )
    now = timezone.now()
    cards_agent = make_staff("cards_agent", Role.AGENT, [cards_team])
    staff_work_set(user=cards_agent, teams=[cards_team], skills=[], max_open_cases=1)
    away = make_staff("away_agent", Role.AGENT, [general_team])
    make_staff("offline_agent", Role.AGENT, [general_team])
    loose = make_staff("loose_agent", Role.AGENT, [])
    for person, presence in [
        (agent, "available"),
        (cards_agent, "available"),
        (away, "away"),
        (loose, "available"),
    ]:
        staff_presence_set(user=person, presence=presence)

    def open_case(subject: str, channel: str, team: Team, **kwargs: Any) -> Case:
        return case_create(subject=subject, channel=channel, team=team, actor=None, **kwargs)

    open_case(
        "转账失败", "phone", general_team, assignee=agent, created_at=now - timedelta(minutes=90)
    )
    open_case("账单疑问", "email", general_team, created_at=now - timedelta(minutes=40))
    open_case("我的卡被吞了", "web_chat", general_team, text="我的卡被吞了")
    answered = open_case(
        "额度调整", "phone", general_team, assignee=agent, created_at=now - timedelta(hours=3)
    )
    case_message_add(case=answered, direction="outbound", text="已为您调整额度", actor=agent)
    resolved = open_case("密码重置", "phone", general_team, assignee=agent)
    case_status_change(case=resolved, status="open", actor=agent)
    case_status_change(case=resolved, status="resolved", actor=agent)
    open_case("年费减免", "phone", cards_team, assignee=cards_agent)
    open_case("分期咨询", "wechat", cards_team)
    return Centre(general_team, cards_team, agent, cards_agent)


def _board(client, user: User, query: str = "") -> Any:
    sign_in_with_second_factor(client, user)
    response = client.get(DATA + query)
    assert response.status_code == 200, response.content
    return response.json()


def _counts(body: dict[str, Any]) -> dict[str, int]:
    figures = dict(body["figures"])
    figures.pop("longest_wait_seconds")
    return figures


# -- the figures --------------------------------------------------------------------------------


def test_the_whole_centre_is_counted_as_by_hand(client, centre, auditor):
    body = _board(client, auditor)

    assert _counts(body) == {
        "depth": 6,
        "unassigned": 3,
        "live_waiting": 2,
        "at_risk": 1,
        "breached": 1,
        "available": 1,
        "busy": 1,
        "away": 1,
    }
    # The phone case unanswered for 90 minutes, not the older one already answered.
    assert 90 * 60 <= body["figures"]["longest_wait_seconds"] < 92 * 60
    assert body["tiles"]["longest_wait"] == {"text": "1:30", "state": "amber"}
    assert body["tiles"]["breached"] == {"text": "1", "state": "red"}
    assert body["tiles"]["at_risk"]["state"] == "amber"
    assert body["tiles"]["depth"] == {"text": "6", "state": "calm"}
    assert body["team"] is None
    assert datetime.fromisoformat(body["generated_at"]).utcoffset() == timedelta(hours=8)


def test_one_team_is_counted_alone(client, centre, auditor):
    body = _board(client, auditor, f"?team={centre.cards.pk}")

    assert _counts(body) == {
        "depth": 2,
        "unassigned": 1,
        "live_waiting": 1,
        "at_risk": 0,
        "breached": 0,
        "available": 0,
        "busy": 1,
        "away": 0,
    }
    assert body["figures"]["longest_wait_seconds"] < 60
    assert body["tiles"]["longest_wait"] == {"text": "0:00", "state": "calm"}
    assert body["team"] == {"id": centre.cards.pk, "name": "信用卡组"}


def test_a_supervisor_sees_their_own_teams_by_default(client, centre, supervisor):
    body = _board(client, supervisor)

    assert _counts(body) == {
        "depth": 4,
        "unassigned": 2,
        "live_waiting": 1,
        "at_risk": 1,
        "breached": 1,
        "available": 1,
        "busy": 0,
        "away": 1,
    }
    assert body["scope"] == "综合服务组"


def test_an_agent_sees_their_team(client, centre):
    assert _board(client, centre.cards_agent)["figures"]["depth"] == 2


def test_a_closed_clock_and_a_reply_leave_the_wall(client, centre, auditor):
    late = Case.objects.get(subject="转账失败")
    case_message_add(case=late, direction="outbound", text="正在为您核实", actor=centre.agent)

    body = _board(client, auditor)
    assert body["figures"]["breached"] == 0
    assert 40 * 60 <= body["figures"]["longest_wait_seconds"] < 42 * 60  # the e-mail, now


def test_a_case_waiting_on_the_customer_is_not_a_customer_waiting(
    client, supervisor, agent, general_team
):
    asked = case_create(
        subject="请补充材料",
        channel="email",
        team=general_team,
        assignee=agent,
        actor=None,
        created_at=timezone.now() - timedelta(hours=5),
    )
    case_status_change(case=asked, status="open", actor=agent)
    case_status_change(case=asked, status="pending_customer", actor=agent)
    case_create(
        subject="挂失补卡",
        channel="phone",
        team=general_team,
        actor=None,
        created_at=timezone.now() - timedelta(minutes=10),
    )

    body = _board(client, supervisor)
    assert body["figures"]["depth"] == 2
    assert 10 * 60 <= body["figures"]["longest_wait_seconds"] < 12 * 60


def test_an_empty_centre_shows_zeros_and_no_wait(client, supervisor):
    body = _board(client, supervisor)

    assert set(_counts(body).values()) == {0}
    assert body["figures"]["longest_wait_seconds"] is None
    assert body["tiles"]["longest_wait"] == {"text": "—", "state": "calm"}


def test_the_page_shows_the_same_figures(client, centre, supervisor):
    sign_in_with_second_factor(client, supervisor)
    response = client.get("/wallboard/")

    assert response.status_code == 200
    page = response.content.decode()
    assert '<html lang="zh-hans">' in page
    assert '<section class="tile" data-tile="depth" data-state="calm"><h2>队列中</h2>' in page
    assert '<p class="value">4</p>' in page
    assert 'data-tile="breached" data-state="red"' in page
    assert 'data-source="/wallboard/data/"' in page
    assert "<script>" not in page and "style=" not in page  # CSP: script-src/style-src 'self'
    assert "<nav" not in page and 'class="bar"' not in page  # no console chrome


def test_the_page_of_one_team_reads_that_teams_figures(client, centre, auditor):
    sign_in_with_second_factor(client, auditor)
    page = client.get(f"/wallboard/?team={centre.cards.pk}").content.decode()

    assert f'data-source="/wallboard/data/?team={centre.cards.pk}"' in page
    assert "<h1>信用卡组</h1>" in page


def test_the_data_costs_a_bounded_number_of_queries(
    client, centre, auditor, django_assert_max_num_queries
):
    sign_in_with_second_factor(client, auditor)
    for index in range(5):
        case_create(subject=f"排队 {index}", channel="web_chat", team=centre.general, actor=None)
    team_create(code="mortgages", name="房贷组")
    # The session, its member of staff and device, and the session saved (the idle timeout);
    # then the teams, the floor's figures, its people and the longest wait: however many cases.
    with django_assert_max_num_queries(10):
        assert client.get(DATA).status_code == 200


@pytest.mark.parametrize(
    ("minutes", "state"),
    [(0, "calm"), (30, "calm"), (31, "amber"), (120, "amber"), (121, "red")],
)
def test_the_longest_wait_turns_amber_after_half_an_hour_and_red_after_two(minutes, state):
    calm = WallFigures(0, 0, None, 0, 0, 0, 1, 0, 0)
    tile = wall_tiles(replace(calm, longest_wait_seconds=minutes * 60))["longest_wait"]
    assert tile.state == state
    assert tile.text == f"{minutes // 60}:{minutes % 60:02d}"


def test_breaches_are_red_from_the_first_and_nobody_free_is_red_when_work_waits():
    calm = WallFigures(0, 0, None, 0, 0, 0, 1, 0, 0)
    assert wall_tiles(calm)["breached"].state == "calm"
    assert wall_tiles(replace(calm, breached=1))["breached"].state == "red"
    assert wall_tiles(replace(calm, available=0))["available"].state == "calm"
    assert wall_tiles(replace(calm, available=0, unassigned=1))["available"].state == "red"
    assert wall_tiles(replace(calm, live_waiting=1))["live_waiting"].state == "amber"
    assert wall_tiles(replace(calm, live_waiting=5))["live_waiting"].state == "red"


# -- who may look -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/wallboard/", DATA])
def test_an_administrator_is_refused(client, centre, admin_user, path):
    sign_in_with_second_factor(client, admin_user)
    response = client.get(path)
    assert response.status_code == 403
    assert b"data-tile" not in response.content and b"figures" not in response.content


@pytest.mark.parametrize("path", ["/wallboard/", DATA])
def test_someone_signed_out_is_sent_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302 and response.url.startswith("/?next=")


@pytest.mark.parametrize("path", ["/wallboard/", DATA])
def test_a_supervisor_owing_a_second_factor_is_sent_to_give_it(client, supervisor, path):
    client.force_login(supervisor)
    response = client.get(path)
    assert response.status_code == 302 and response.url.startswith("/mfa/")


@pytest.mark.parametrize("path", ["/wallboard/", DATA])
def test_the_wallboard_only_reads(client, supervisor, path):
    sign_in_with_second_factor(client, supervisor)
    assert client.post(path).status_code == 405


@pytest.mark.parametrize("path", ["/wallboard/", DATA])
def test_another_teams_wall_is_not_found(client, centre, supervisor, path):
    sign_in_with_second_factor(client, supervisor)
    assert client.get(f"{path}?team={centre.cards.pk}").status_code == 404
    assert client.get(f"{path}?team={centre.general.pk}").status_code == 200


@pytest.mark.parametrize("team", ["999999", "abc", ""])
def test_an_unknown_team_is_not_found(client, centre, auditor, team):
    sign_in_with_second_factor(client, auditor)
    assert client.get(f"{DATA}?team={team}").status_code == 404


def test_a_complaint_officer_sees_the_complaint_team(client, centre, complaint_officer):
    body = _board(client, complaint_officer)
    assert body["scope"] == "投诉处理组" and body["figures"]["depth"] == 0
    assert client.get(f"{DATA}?team={centre.general.pk}").status_code == 404


# -- on the wall ------------------------------------------------------------------------------


@pytest.fixture
def supervisor_phone(supervisor) -> Authenticator:
    return Authenticator(supervisor)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_wall_follows_the_queue_and_says_when_it_lost_the_connection(
    migrated_data, centre, supervisor, supervisor_phone, server: str, browser: Any
) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(
        locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1920, "height": 1080}
    )
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    # A refused inline script or style would be reported here (CSP: 'self' only).
    page.on(
        "console",
        lambda message: (
            problems.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    browser_sign_in(page, server, supervisor, supervisor_phone)
    page.goto(f"{server}/wallboard/")

    depth = page.locator('[data-tile="depth"] .value')
    expect(depth).to_have_text("4")
    expect(page.locator("h1")).to_have_text("综合服务组")
    expect(page.locator('[data-tile="depth"] h2')).to_have_text("队列中")
    expect(page.locator('[data-tile="longest_wait"] .value')).to_have_text("1:30")
    expect(page.locator('[data-tile="breached"]')).to_have_attribute("data-state", "red")
    # Nothing spills off the screen: the wall has no one to scroll it.
    assert page.evaluate("document.documentElement.scrollHeight") <= 1080
    assert page.evaluate("document.documentElement.scrollWidth") <= 1920

    off_the_browser_thread(
        lambda: case_create(
            subject="信用卡被盗刷", channel="web_chat", team=centre.general, actor=None
        )
    )
    expect(depth).to_have_text("5", timeout=12_000)  # within two refreshes of five seconds
    expect(page.locator('[data-tile="live_waiting"] .value')).to_have_text("2")
    screenshot(page, "zh-50-wallboard")

    page.route("**/wallboard/data/**", lambda route: route.abort())
    lost = page.locator("#wall-lost")
    expect(lost).to_be_visible(timeout=12_000)
    last = page.locator('#wall-lost [data-field="last-update"]').text_content()
    assert last and len(last) == 8 and last.count(":") == 2
    screenshot(page, "zh-51-wallboard-connection-lost")

    page.unroute("**/wallboard/data/**")
    expect(lost).to_be_hidden(timeout=12_000)
    assert not problems, problems
