"""Words, not codes: every main console page, in 简体, 繁體 and English, says everything in the
reader's language, and shows no raw code (a status, channel, event or clock state as stored)."""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.db import models
from django.utils import timezone

from bankdesk.conftest import sign_in_with_second_factor
from bankdesk.customers.choices import Segment, Tier
from bankdesk.intake.services import case_reply
from bankdesk.lib.channels import Channel
from bankdesk.sla.choices import ClockState, DueState
from bankdesk.sla.models import SlaClock
from bankdesk.sla.services import TargetSpec, sla_policy_create
from bankdesk.sla.tests.policies import standard_policy_create
from bankdesk.staff.choices import Presence
from bankdesk.tickets.choices import CaseStatus, DeliveryStatus, EventKind, Priority
from bankdesk.tickets.macros import MacroSpec, macro_save
from bankdesk.tickets.services import (
    case_assign,
    case_create,
    case_note_add,
    case_status_change,
    message_delivery_record,
)

pytestmark = pytest.mark.django_db

LANGUAGES = {"zh-hans": "zh_Hans", "zh-hant": "zh_Hant", "en": None}
CODES: list[type[models.TextChoices]] = [
    CaseStatus,
    Priority,
    Channel,
    ClockState,
    DueState,
    DeliveryStatus,
    EventKind,
    Presence,
    Tier,
    Segment,
]
# Words that read the same in every language: the product's name and the abbreviations staff use.
SAME_EVERYWHERE = {"bankdesk", "SLA", "IVR", "API", "SMS"}


class _Visible(HTMLParser):
    """What a person reads on the page: text outside scripts and styles, and the placeholders,
    titles and labels of controls. Left out: the language switcher (each language in its own
    name) and <code>, syntax typed as shown (a macro's placeholders)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in {"script", "style", "code"} or (
            tag == "form" and values.get("class") in {"lang", "help-lang"}
        ):
            self._skip += 1
        for name in ("placeholder", "title", "aria-label"):
            if values.get(name):
                self.parts.append(str(values[name]))

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style", "code", "form"} and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.parts.append(data.strip())


def visible(html: str) -> str:
    parser = _Visible()
    parser.feed(html)
    return "\n".join(parser.parts)


def _untranslatable(catalogue: str) -> set[str]:
    """English source strings of the catalogue that must not be read on a Chinese page."""
    po = polib.pofile(str(Path(settings.LOCALE_PATHS[0]) / catalogue / "LC_MESSAGES" / "django.po"))
    return {
        entry.msgid
        for entry in po
        if not entry.obsolete
        and "%" not in entry.msgid
        and re.search(r"[A-Za-z]{3}", entry.msgid)
        and entry.msgid not in SAME_EVERYWHERE
    }


@pytest.fixture
def pages(supervisor, agent, general_team, customer) -> list[str]:
    standard_policy_create(
        TargetSpec(name="首次响应", metric="first_response", minutes=30, basis="calendar"),
        TargetSpec(name="解决时限", metric="resolution", minutes=480, basis="calendar"),
    )
    case = case_create(
        subject="信用卡年费争议", channel="email", team=general_team, customer=customer, actor=None
    )
    late = case_create(subject="网银登录失败", channel="web_chat", team=general_team, actor=None)
    now = timezone.now()
    SlaClock.objects.filter(case=late).update(due_at=now - timedelta(minutes=1))
    case_status_change(case=case, status="open", actor=supervisor)
    case_assign(case=case, team=general_team, assignee=agent, actor=supervisor)
    message, _ = case_reply(case=case, text="您好，已为您核实。", actor=supervisor)
    message_delivery_record(message=message, status="failed", reason="mailbox full")
    case_note_add(case=case, text="客户要求下午回电", actor=supervisor)
    case_status_change(case=case, status="pending_customer", actor=supervisor)
    macro_save(
        spec=MacroSpec(name="致歉", text_zh_hans="非常抱歉", set_status="resolved", shared=True),
        actor=supervisor,
    )
    return [
        "/home/",
        "/cases/",
        "/cases/?sla=breached",
        f"/cases/{case.pk}/",
        f"/cases/{late.pk}/",
        f"/customers/{customer.pk}/",
        "/search/?q=13812345678",
        "/supervisor/",
        "/macros/",
    ]


def _read_in(client, language: str, paths: list[str]) -> None:
    """Each page in `language`: no English source string left, no stored code shown."""
    catalogue = LANGUAGES[language]
    english = _untranslatable(catalogue) if catalogue else set()
    codes = {value for choices in CODES for value in choices.values}
    for path in paths:
        response = client.get(path, headers={"Accept-Language": language})
        assert response.status_code == 200, path
        text = visible(response.content.decode())
        left = sorted(
            msgid for msgid in english if re.search(rf"(?<![\w]){re.escape(msgid)}(?![\w])", text)
        )
        assert left == [], f"{path} in {language}: untranslated {left}"
        raw = sorted(set(re.findall(r"\b[a-z]+(?:_[a-z0-9]+)+\b", text)))
        assert raw == [], f"{path} in {language}: codes {raw}"
        if catalogue:
            words = set(re.findall(r"\b[a-z]{3,}\b", text))
            assert not (words & codes), f"{path} in {language}: codes {sorted(words & codes)}"


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_the_main_pages_are_in_the_readers_language_without_codes(
    client, supervisor, pages, language
):
    sign_in_with_second_factor(client, supervisor)
    _read_in(client, language, pages)


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_the_management_screens_are_in_the_readers_language_without_codes(
    client, admin_user, supervisor, general_team, language
):
    from bankdesk.knowledge.services import article_create
    from bankdesk.tickets.routing_rules import routing_rule_create

    sla_policy_create(
        code="p100",
        name="标准服务",  # what the bank calls it; an English name would read as English
        position=100,
        pause_statuses=["pending_customer"],
        actor=None,
        targets=[
            TargetSpec(name="首次响应", metric="first_response", minutes=240, basis="business")
        ],
    )
    routing_rule_create(name="在线客服", team=general_team, actor=None, channel="web_chat")
    article = article_create(
        slug="card-pin",
        kind="faq",
        language="zh-hans",
        title="如何修改银行卡密码",
        body="您可以在本行任意自动柜员机修改密码。",
        questions=["怎么改密码"],
        actor=None,
    ).article
    sign_in_with_second_factor(client, admin_user)
    _read_in(
        client,
        language,
        [
            "/manage/knowledge/",
            f"/manage/knowledge/{article.pk}/",
            "/manage/knowledge/new/",
            "/manage/routing/",
            "/manage/routing/new/",
            "/manage/sla/",
            "/manage/sla/new/",
            "/manage/calendars/",
            "/manage/calendars/cn-mainland/",
            "/manage/calendars/cn-mainland/notice/",
            "/manage/staff/",
            f"/manage/staff/{supervisor.pk}/",
            "/manage/staff/new/",
            "/manage/teams/",
            f"/manage/teams/{general_team.pk}/",
            "/manage/channels/",
        ],
    )
    client.logout()
    _read_in(client, language, ["/help/", "/help/contact/"])
