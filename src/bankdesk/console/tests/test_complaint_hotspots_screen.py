"""The hotspots screen over HTTP: every count opens the register filtered to a list of the same
length, the complaint team records root causes and moves their actions, auditors read and
change nothing, agents see nothing, and the register downloads as XLSX."""

from __future__ import annotations

import re
from io import BytesIO

import pytest
from openpyxl import load_workbook

from bankdesk.complaints.models import Rectification, RootCause
from bankdesk.complaints.tests.hotspot_data import register_with_hotspots
from bankdesk.conftest import sign_in_with_second_factor
from bankdesk.security.models import AuditEntry

pytestmark = pytest.mark.django_db

PAGE = "/complaints/hotspots/?from=2024-04-01&to=2024-07-01"
CASE_LINK = re.compile(r'href="/cases/\d+/"')
COUNT_LINK = re.compile(r'<a class="(count|previous)" href="([^"]+)">(\d+)</a>')


@pytest.fixture
def register(complaint_officer):
    register_with_hotspots(complaint_officer)


def _filtered_count(client, link: str) -> int:
    page = client.get(link.replace("&amp;", "&")).content.decode()
    return int(re.search(r'class="hotspot-filter" data-count="(\d+)"', page).group(1))


def test_every_count_on_the_page_opens_a_register_of_that_many(
    client, register, complaint_officer, django_assert_max_num_queries
) -> None:
    sign_in_with_second_factor(client, complaint_officer)
    with django_assert_max_num_queries(60):
        page = client.get(PAGE).content.decode()
    assert "信用卡" in page and "城东支行" in page and "年费" in page
    links = COUNT_LINK.findall(page)
    assert len(links) > 20
    for _kind, link, count in set(links):
        assert _filtered_count(client, link) == int(count), link
    row = r'data-key="product-cards-credit">.*?class="count" href="([^"]+)">(\d+)<'
    credit = re.search(row, page, re.S)
    assert credit.group(2) == "6"
    register_page = client.get(credit.group(1).replace("&amp;", "&")).content.decode()
    assert len(CASE_LINK.findall(register_page)) == 6


def test_a_malformed_filter_says_why_and_lists_nothing(client, register, complaint_officer) -> None:
    sign_in_with_second_factor(client, complaint_officer)
    page = client.get("/complaints/?dimension=product&key=nothing&from=2024-04-01&to=2024-07-01")
    assert page.status_code == 200
    assert not CASE_LINK.findall(page.content.decode())
    assert client.get("/complaints/hotspots/?from=2024-07-01&to=2024-04-01").status_code == 400


def test_the_complaint_team_records_a_root_cause_and_rectifies_it(
    client, register, complaint_officer, supervisor
) -> None:
    sign_in_with_second_factor(client, complaint_officer)
    refused = client.post("/complaints/root-causes/", {
        "hotspot": "product:product-cards-credit", "title": " ", "description": "批处理执行了两次",
        "from": "2024-04-01", "to": "2024-07-01",
    })  # fmt: skip
    assert refused.status_code == 400 and "批处理执行了两次" in refused.content.decode()
    assert not RootCause.objects.exists()
    added = client.post("/complaints/root-causes/", {
        "hotspot": "product:product-cards-credit", "title": "年费批处理重复执行",
        "owner": str(supervisor.pk), "from": "2024-04-01", "to": "2024-07-01",
    })  # fmt: skip
    assert added.status_code == 302 and "from=2024-04-01" in added["Location"]
    cause = RootCause.objects.get()
    assert (cause.dimension, cause.key) == ("product", "product-cards-credit")
    assert cause.label == "信用卡"
    assert client.post(f"/complaints/root-causes/{cause.pk}/actions/", {
        "action": "批处理增加幂等校验", "owner": str(supervisor.pk), "due_on": "2099-01-31",
    }).status_code == 302  # fmt: skip
    action = Rectification.objects.get()
    for status in ("in_progress", "done"):
        moved = client.post(f"/complaints/rectifications/{action.pk}/move/", {"status": status})
        assert moved.status_code == 302
    assert client.post(f"/complaints/rectifications/{action.pk}/move/",
                       {"status": "planned"}).status_code == 409  # fmt: skip
    cause.refresh_from_db()
    assert cause.status == "rectified"
    page = client.get(PAGE).content.decode()
    assert "年费批处理重复执行" in page and "批处理增加幂等校验" in page
    assert _filtered_count(client, f"/complaints/?root_cause={cause.pk}") == 0


def test_auditors_read_and_change_nothing_agents_see_nothing(
    client, register, auditor, agent, supervisor
) -> None:
    sign_in_with_second_factor(client, auditor)
    page = client.get(PAGE)
    assert page.status_code == 200
    assert 'action="/complaints/root-causes/"' not in page.content.decode()
    wechat = {"hotspot": "channel:wechat", "title": "微信渠道"}
    assert client.post("/complaints/root-causes/", wechat).status_code == 403
    client.force_login(agent)
    assert client.get(PAGE).status_code == 403
    assert client.get("/complaints/export.xlsx?from=2024-04-01&to=2024-07-01").status_code == 403
    assert client.post("/complaints/root-causes/", wechat).status_code == 403
    assert not RootCause.objects.exists()
    sign_in_with_second_factor(client, supervisor)
    assert client.get(PAGE).status_code == 200


def test_the_register_downloads_as_xlsx_and_the_download_is_audited(
    client, register, complaint_officer
) -> None:
    sign_in_with_second_factor(client, complaint_officer)
    assert 'href="/complaints/hotspots/"' in client.get("/complaints/").content.decode()
    answer = client.get("/complaints/export.xlsx?from=2024-04-01&to=2024-07-01&lang=en")
    assert answer.status_code == 200
    assert answer["Content-Disposition"].endswith('-en.xlsx"')
    rows = list(load_workbook(BytesIO(answer.content)).worksheets[0].iter_rows(values_only=True))
    assert rows[0][0] == "Case number" and len(rows) == 1 + 12
    assert AuditEntry.objects.filter(action="complaints.register.export").count() == 1
    bad = client.get("/complaints/export.xlsx?from=2024-04-01&to=2024-07-01&lang=fr")
    assert bad.status_code == 302
