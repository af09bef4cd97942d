"""The console's management screens for staff, teams and channel endpoints: what administrators
keep there, with the admin screens' permissions and the services' audit entries; roles only by
request and approval, a second factor reset only by another administrator for a reason, and an
endpoint's secrets written but never shown."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from bankdesk.conftest import PASSWORD, sign_in_with_second_factor
from bankdesk.intake.models import ChannelEndpoint
from bankdesk.security.models import AuditEntry
from bankdesk.sla.models import BusinessCalendar
from bankdesk.staff.choices import Presence, Role, RoleChangeStatus, SkillKind
from bankdesk.staff.models import ChannelCapacity, RoleChangeRequest, Skill, Team, User
from bankdesk.staff.services import channel_capacity_set, staff_presence_set
from bankdesk.tickets.routing import case_route
from bankdesk.tickets.routing_rules import routing_rule_create
from bankdesk.tickets.services import case_create

pytestmark = pytest.mark.django_db

SECRET = "wx-token-Zq81!secret"


def _html(response) -> str:
    return response.content.decode()


def _audited(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action))


@pytest.fixture
def admin_client(client, admin_user):
    return sign_in_with_second_factor(client, admin_user)


@pytest.fixture
def endpoint() -> ChannelEndpoint:
    return ChannelEndpoint.objects.create(
        code="bank-wechat",
        channel="wechat",
        name="银行公众号",
        settings={"app_id": "wx123"},
        secrets=json.dumps({"token": SECRET}),
    )


# --- the staff list --------------------------------------------------------------------------


def test_the_staff_list_shows_role_teams_skills_presence_and_capacity_in_chinese(
    admin_client, agent, django_assert_max_num_queries
):
    skill = Skill.objects.create(code="en", name="英语", kind=SkillKind.LANGUAGE)
    agent.skills.add(skill)
    channel_capacity_set(user=agent, channel="web_chat", max_open_cases=3)
    staff_presence_set(user=agent, presence=Presence.AVAILABLE)

    with django_assert_max_num_queries(25):
        response = admin_client.get("/manage/staff/")

    assert response.status_code == 200
    page = _html(response)
    assert '<html lang="zh-hans">' in page
    for shown in ("员工", "客服专员", "综合服务组", "英语", "在线", "网页在线客服 ≤ 3"):
        assert shown in page
    assert "web_chat" not in page and "<td>客服专员</td>" in page  # labels, never codes


def test_the_staff_list_speaks_english_when_chosen(admin_client, agent):
    admin_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = _html(admin_client.get("/manage/staff/"))
    assert '<html lang="en">' in page and "Agent" in page and "Offline" in page


def test_the_list_stays_within_its_queries_however_many_people(
    admin_client, make_staff, general_team, django_assert_max_num_queries
):
    for number in range(15):
        person = make_staff(f"agent{number}", Role.AGENT, [general_team])
        channel_capacity_set(user=person, channel="email", max_open_cases=2)
    with django_assert_max_num_queries(25):
        assert admin_client.get("/manage/staff/").status_code == 200


@pytest.mark.parametrize("role", [Role.AGENT, Role.SUPERVISOR, Role.AUDITOR])
def test_other_roles_are_refused_every_screen_and_change_nothing(
    client, make_staff, agent, endpoint, role
):
    person = make_staff(f"someone-{role}", role)
    sign_in_with_second_factor(client, person)
    TOTPDevice.objects.create(user=agent, name="authenticator", confirmed=True)
    for url in ("/manage/staff/", "/manage/staff/new/", "/manage/teams/", "/manage/channels/"):
        assert client.get(url).status_code == 403, url
    assert client.get(f"/manage/staff/{agent.pk}/").status_code == 403
    posts = {
        f"/manage/staff/{agent.pk}/mfa-reset/": {"reason": "lost the phone"},
        f"/manage/staff/{agent.pk}/deactivate/": {},
        f"/manage/staff/{agent.pk}/capacity/": {"channel": "email", "max_open_cases": "1"},
        f"/manage/staff/{agent.pk}/role/": {"role": "supervisor", "reason": "promoted"},
        f"/manage/channels/{endpoint.pk}/active/": {"is_active": "off"},
        "/manage/teams/": {"code": "x", "name": "X"},
    }
    for url, data in posts.items():
        assert client.post(url, data).status_code == 403, url
    agent.refresh_from_db()
    endpoint.refresh_from_db()
    assert agent.is_active and TOTPDevice.objects.filter(user=agent).exists()
    assert not ChannelCapacity.objects.exists() and not RoleChangeRequest.objects.exists()
    assert endpoint.is_active and not Team.objects.filter(code="x").exists()


def test_the_screens_need_a_signed_in_member_with_the_second_factor(client, admin_user):
    assert client.get("/manage/staff/").status_code == 302
    client.force_login(admin_user)  # password only: the code is still owed
    response = client.get("/manage/staff/")
    assert response.status_code == 302 and response["Location"].startswith("/mfa/")


# --- adding a member -------------------------------------------------------------------------


def test_an_administrator_adds_an_agent_who_can_sign_in(admin_client, admin_user, general_team):
    form = {
        "username": "li.na",
        "display_name": "李娜",
        "email": "li.na@bank.example",
        "preferred_language": "zh-hans",
        "teams": [general_team.pk],
        "password1": "Spring-orchid-2026",
        "password2": "Spring-orchid-2026",
    }
    response = admin_client.post("/manage/staff/new/", form)

    person = User.objects.get(username="li.na")
    assert response.status_code == 302
    assert response["Location"] == f"/manage/staff/{person.pk}/"
    assert person.role == Role.AGENT and not person.is_staff
    assert list(person.teams.all()) == [general_team]
    assert person.check_password("Spring-orchid-2026")
    [entry] = _audited("staff.create")[-1:]
    assert entry.actor_id == admin_user.pk and entry.object_id == str(person.pk)


def test_a_bad_new_member_is_shown_again_with_what_was_typed_but_no_password(admin_client, agent):
    form = {
        "username": "AGENT",  # taken, whatever the case
        "display_name": "王芳",
        "email": "not-an-address",
        "preferred_language": "zh-hans",
        "password1": "Spring-orchid-2026",
        "password2": "Spring-orchid-2027",
    }
    response = admin_client.post("/manage/staff/new/", form)

    assert response.status_code == 400
    page = _html(response)
    assert 'value="王芳"' in page and 'value="AGENT"' in page
    assert "Spring-orchid" not in page
    assert page.count('class="error"') >= 3
    assert User.objects.count() == 2  # the admin and the agent


def test_a_weak_initial_password_is_refused(admin_client):
    form = {"username": "wang", "preferred_language": "en", "password1": "123", "password2": "123"}
    response = admin_client.post("/manage/staff/new/", form)
    assert response.status_code == 400 and not User.objects.filter(username="wang").exists()


# --- teams, skills, capacity -----------------------------------------------------------------


def test_teams_skills_and_overall_capacity_are_changed_and_audited(
    admin_client, agent, complaint_team
):
    skill = Skill.objects.create(code="cards", name="银行卡", kind=SkillKind.PRODUCT)
    response = admin_client.post(
        f"/manage/staff/{agent.pk}/work/",
        {"teams": [complaint_team.pk], "skills": [skill.pk], "max_open_cases": "5"},
    )
    assert response.status_code == 302
    agent.refresh_from_db()
    assert list(agent.teams.all()) == [complaint_team] and list(agent.skills.all()) == [skill]
    assert agent.max_open_cases == 5
    [entry] = _audited("staff.work")
    assert sorted(entry.fields) == ["max_open_cases", "skills", "teams"]


def test_the_branch_a_member_works_at_is_set_here(admin_client, agent, general_team):
    from bankdesk.staff.services import branch_create

    branch = branch_create(code="bj-xidan", name="西单支行")
    closed = branch_create(code="bj-old", name="旧网点", is_active=False)
    page = _html(admin_client.get(f"/manage/staff/{agent.pk}/"))
    assert "西单支行" in page and "旧网点" not in page
    form = {"teams": [general_team.pk], "max_open_cases": "8", "branch": str(branch.pk)}
    assert admin_client.post(f"/manage/staff/{agent.pk}/work/", form).status_code == 302
    agent.refresh_from_db()
    assert agent.branch == branch
    [entry] = _audited("staff.work")
    assert entry.fields == ["branch"]
    refused = admin_client.post(
        f"/manage/staff/{agent.pk}/work/", {**form, "branch": str(closed.pk)}
    )
    assert refused.status_code == 400
    agent.refresh_from_db()
    assert agent.branch == branch


def test_a_bad_capacity_is_refused_with_the_form_kept(admin_client, agent):
    response = admin_client.post(
        f"/manage/staff/{agent.pk}/work/", {"teams": [], "max_open_cases": "-2"}
    )
    assert response.status_code == 400 and 'value="-2"' in _html(response)
    agent.refresh_from_db()
    assert agent.max_open_cases == 8 and agent.teams.exists()
    unknown = admin_client.post(
        f"/manage/staff/{agent.pk}/capacity/", {"channel": "pigeon", "max_open_cases": "2"}
    )
    assert unknown.status_code == 400 and not ChannelCapacity.objects.exists()


def test_a_channel_capacity_set_here_is_what_routing_honours(admin_client, agent, general_team):
    staff_presence_set(user=agent, presence=Presence.AVAILABLE)
    routing_rule_create(name="全部", team=general_team, actor=None)
    response = admin_client.post(
        f"/manage/staff/{agent.pk}/capacity/", {"channel": "web_chat", "max_open_cases": "1"}
    )
    assert response.status_code == 302
    assert _audited("staff.channel_capacity")

    def route(channel: str) -> User | None:
        case = case_create(subject="咨询", channel=channel, actor=None)
        return case_route(case=case, actor=None).assignee

    assert route("web_chat") == agent
    assert route("web_chat") is None  # the one web chat they may hold
    assert route("phone") == agent

    lifted = admin_client.post(
        f"/manage/staff/{agent.pk}/capacity/", {"channel": "web_chat", "max_open_cases": ""}
    )
    assert lifted.status_code == 302 and not ChannelCapacity.objects.exists()
    assert route("web_chat") == agent


# --- deactivating ----------------------------------------------------------------------------


def test_a_deactivated_member_can_no_longer_sign_in(admin_client, admin_user, agent, client):
    response = admin_client.post(f"/manage/staff/{agent.pk}/deactivate/")
    assert response.status_code == 302
    agent.refresh_from_db()
    assert not agent.is_active and agent.presence == Presence.OFFLINE
    assert _audited("staff.deactivate")[0].actor_id == admin_user.pk

    refused = client.__class__().post("/", {"username": "agent", "password": PASSWORD})
    assert refused.status_code == 200 and SESSION_KEY not in refused.wsgi_request.session


def test_nobody_deactivates_themselves(admin_client, admin_user):
    page = _html(admin_client.get(f"/manage/staff/{admin_user.pk}/"))
    assert f"/manage/staff/{admin_user.pk}/deactivate/" not in page
    assert admin_client.post(f"/manage/staff/{admin_user.pk}/deactivate/").status_code == 403
    admin_user.refresh_from_db()
    assert admin_user.is_active and not _audited("staff.deactivate")


# --- the second factor -----------------------------------------------------------------------


def test_a_reset_second_factor_is_set_up_again_at_the_next_sign_in(
    admin_client, admin_user, supervisor
):
    TOTPDevice.objects.create(user=supervisor, name="authenticator", confirmed=True)
    page = _html(admin_client.get(f"/manage/staff/{supervisor.pk}/"))
    assert f'action="/manage/staff/{supervisor.pk}/mfa-reset/"' in page and "主管" in page
    response = admin_client.post(
        f"/manage/staff/{supervisor.pk}/mfa-reset/", {"reason": "换了新手机，旧手机已交回"}
    )

    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=supervisor).exists()
    [entry] = _audited("staff.mfa_reset")
    assert entry.actor_id == admin_user.pk and entry.object_id == str(supervisor.pk)
    assert entry.reason == "换了新手机，旧手机已交回"

    member = admin_client.__class__()
    signed_in = member.post("/", {"username": "supervisor", "password": PASSWORD}, follow=True)
    assert signed_in.redirect_chain[-1][0].startswith("/mfa/enrol/")


def test_a_reset_needs_a_reason_and_something_to_reset(admin_client, supervisor):
    device = TOTPDevice.objects.create(user=supervisor, name="authenticator", confirmed=True)
    short = admin_client.post(f"/manage/staff/{supervisor.pk}/mfa-reset/", {"reason": " 丢 "})
    assert short.status_code == 400 and "丢" in _html(short)
    assert TOTPDevice.objects.filter(pk=device.pk).exists() and not _audited("staff.mfa_reset")

    device.delete()
    nothing = admin_client.post(
        f"/manage/staff/{supervisor.pk}/mfa-reset/", {"reason": "lost the phone"}
    )
    assert nothing.status_code == 400 and "lost the phone" in _html(nothing)


def test_an_administrator_cannot_reset_their_own_second_factor(admin_client, admin_user):
    page = _html(admin_client.get(f"/manage/staff/{admin_user.pk}/"))
    assert "mfa-reset" not in page
    response = admin_client.post(
        f"/manage/staff/{admin_user.pk}/mfa-reset/", {"reason": "lost my phone"}
    )
    assert response.status_code == 403
    assert TOTPDevice.objects.filter(user=admin_user).exists()
    assert not _audited("staff.mfa_reset")


# --- roles: asked by one administrator, decided by another -----------------------------------


def test_a_role_is_requested_here_and_applies_only_once_another_admin_approves(
    client, admin_user, make_staff, agent
):
    second = make_staff("admin2", Role.ADMIN)
    sign_in_with_second_factor(client, admin_user)
    asked = client.post(
        f"/manage/staff/{agent.pk}/role/", {"role": Role.SUPERVISOR, "reason": "新任组长"}
    )
    assert asked.status_code == 302
    agent.refresh_from_db()
    assert agent.role == Role.AGENT
    change = RoleChangeRequest.objects.get()
    assert change.status == RoleChangeStatus.PENDING

    own = client.post(f"/manage/staff/{agent.pk}/role/decide/", {"decision": "approve"})
    assert own.status_code == 403
    agent.refresh_from_db()
    assert agent.role == Role.AGENT

    sign_in_with_second_factor(client, second)
    approved = client.post(f"/manage/staff/{agent.pk}/role/decide/", {"decision": "approve"})
    assert approved.status_code == 302
    agent.refresh_from_db()
    assert agent.role == Role.SUPERVISOR
    assert _audited("staff.role_change")


def test_asking_for_the_role_someone_has_is_refused_with_the_reason_kept(admin_client, agent):
    response = admin_client.post(
        f"/manage/staff/{agent.pk}/role/", {"role": Role.AGENT, "reason": "保持不变"}
    )
    assert response.status_code == 400 and "保持不变" in _html(response)
    assert not RoleChangeRequest.objects.exists()


# --- teams -----------------------------------------------------------------------------------


def test_a_team_is_added_on_a_calendar_and_its_calendar_changed(admin_client, admin_user):
    calendar = BusinessCalendar.objects.create(code="cn", name="中国大陆工作日")
    response = admin_client.post(
        "/manage/teams/", {"code": "vip", "name": "贵宾服务组", "calendar": calendar.pk}
    )
    assert response.status_code == 302
    team = Team.objects.get(code="vip")
    assert team.calendar == calendar and team.name == "贵宾服务组"
    assert _audited("team.create") and _audited("team.calendar")

    assert admin_client.post(f"/manage/teams/{team.pk}/", {"calendar": ""}).status_code == 302
    team.refresh_from_db()
    assert team.calendar is None
    assert "贵宾服务组" in _html(admin_client.get("/manage/teams/"))


def test_a_team_code_already_taken_is_refused(admin_client, general_team):
    response = admin_client.post("/manage/teams/", {"code": "general", "name": "另一个组"})
    assert response.status_code == 400 and 'value="另一个组"' in _html(response)
    assert Team.objects.count() == 1


# --- channel endpoints -----------------------------------------------------------------------


def test_an_endpoints_secrets_are_never_shown(admin_client, endpoint):
    listing = admin_client.get("/manage/channels/")
    editing = admin_client.get(f"/manage/channels/{endpoint.pk}/")
    for response in (listing, editing):
        assert response.status_code == 200 and SECRET not in _html(response)
    assert "wx123" in _html(editing) and "微信" in _html(listing)

    admin_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert "<td>Set, not shown</td>" in _html(admin_client.get("/manage/channels/"))
    assert "<dd>Set, not shown</dd>" in _html(admin_client.get(f"/manage/channels/{endpoint.pk}/"))
    ChannelEndpoint.objects.filter(pk=endpoint.pk).update(secrets="")
    assert "<td>Not set</td>" in _html(admin_client.get("/manage/channels/"))


def test_an_endpoints_settings_and_secrets_are_written_and_audited(admin_client, endpoint):
    new_secret = "n3w-Secret-value"
    response = admin_client.post(
        f"/manage/channels/{endpoint.pk}/",
        {
            "name": "银行服务号",
            "settings": '{"app_id": "wx999", "welcome": "您好"}',
            "new_secrets": json.dumps({"token": new_secret}),
        },
    )
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.name == "银行服务号"
    assert endpoint.settings == {"app_id": "wx999", "welcome": "您好"}
    assert json.loads(endpoint.secrets) == {"token": new_secret}
    [entry] = _audited("intake.endpoint")
    assert sorted(entry.fields) == ["name", "secrets", "settings"]
    assert new_secret not in _html(admin_client.get(f"/manage/channels/{endpoint.pk}/"))


def test_bad_settings_are_refused_keeping_the_rest_and_never_the_secrets(admin_client, endpoint):
    typed_secret = '{"token": "typed-but-refused"}'
    response = admin_client.post(
        f"/manage/channels/{endpoint.pk}/",
        {"name": "新名称", "settings": "[1, 2", "new_secrets": typed_secret},
    )
    assert response.status_code == 400
    page = _html(response)
    assert 'value="新名称"' in page and "[1, 2" in page
    assert "typed-but-refused" not in page and SECRET not in page
    endpoint.refresh_from_db()
    assert endpoint.name == "银行公众号" and json.loads(endpoint.secrets) == {"token": SECRET}
    assert not _audited("intake.endpoint")


def test_empty_secrets_keep_the_stored_ones(admin_client, endpoint):
    response = admin_client.post(
        f"/manage/channels/{endpoint.pk}/",
        {"name": "银行公众号", "settings": '{"app_id": "wx123"}', "new_secrets": ""},
    )
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert json.loads(endpoint.secrets) == {"token": SECRET}
    assert not _audited("intake.endpoint")  # nothing changed, nothing recorded


def test_an_endpoint_is_switched_off_and_on(admin_client, endpoint):
    assert (
        admin_client.post(
            f"/manage/channels/{endpoint.pk}/active/", {"is_active": "off"}
        ).status_code
        == 302
    )
    endpoint.refresh_from_db()
    assert not endpoint.is_active and _audited("intake.endpoint")[0].fields == ["is_active"]
    admin_client.post(f"/manage/channels/{endpoint.pk}/active/", {"is_active": "on"})
    endpoint.refresh_from_db()
    assert endpoint.is_active
