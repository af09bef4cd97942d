"""The sign-in page and the home page, in each of bankdesk's languages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

from bankdesk.conftest import PASSWORD
from bankdesk.tickets.services import case_create

pytestmark = pytest.mark.django_db


def test_the_root_is_the_sign_in_page_in_simplified_chinese_by_default(client):
    response = client.get("/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "登录客户服务中心" in page
    assert 'name="password"' in page


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("en", "Sign in to the service centre"),
        ("zh-Hant-HK", "登入客戶服務中心"),
        ("zh-CN", "登录客户服务中心"),
    ],
)
def test_the_sign_in_page_follows_the_browser_language(client, accept, expected):
    assert expected in client.get("/", headers={"Accept-Language": accept}).content.decode()


def test_signing_in_shows_the_home_page_with_my_cases(client, agent, general_team):
    case_create(
        subject="网银转账失败", channel="web_chat", actor=agent, team=general_team, assignee=agent
    )
    response = client.post("/", {"username": "agent", "password": PASSWORD}, follow=True)
    page = response.content.decode()
    assert response.status_code == 200
    assert "我的待办工单" in page and "网银转账失败" in page


def test_a_wrong_password_stays_on_the_sign_in_page_with_an_error(client, agent):
    response = client.post("/", {"username": "agent", "password": "wrong"})
    assert response.status_code == 200
    assert "用户名或密码不正确" in response.content.decode()


def test_the_home_page_needs_a_signed_in_member_of_staff(client):
    response = client.get("/home/")
    assert response.status_code == 302 and response.url.startswith("/")


def _entries(po: Path) -> list[tuple[str, str]]:
    text = po.read_text(encoding="utf-8")
    pairs = re.findall(r'^msgid "(.*)"\nmsgstr "(.*)"$', text, re.M)
    return [(msgid, msgstr) for msgid, msgstr in pairs if msgid]


@pytest.mark.parametrize("language", ["zh_Hans", "zh_Hant"])
def test_every_string_is_translated(language):
    po = Path(settings.LOCALE_PATHS[0]) / language / "LC_MESSAGES" / "django.po"
    untranslated = [msgid for msgid, msgstr in _entries(po) if not msgstr]
    assert untranslated == []
    assert "#, fuzzy" not in po.read_text(encoding="utf-8").split("\n\n", 1)[1]
    assert po.with_suffix(".mo").exists(), "compile the catalogue (bankdesk compilemessages)"
