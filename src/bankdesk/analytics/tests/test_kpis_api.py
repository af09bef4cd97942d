"""The indicators over HTTP: the API answers each with value, target, counts and definition; its
drill-down lists what the number counts; the dashboard shows the same numbers and links to
those lists; the quarterly evaluation's XLSX holds the API's numbers and its PDF carries Chinese
in an embedded font."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from openpyxl import load_workbook
from pypdf import PdfReader

from bankdesk.analytics.evaluation import report_write
from bankdesk.analytics.rollups import rollups_refresh
from bankdesk.conftest import sign_in_with_second_factor

pytestmark = pytest.mark.django_db


@pytest.fixture
def refreshed(autumn):
    rollups_refresh()
    return autumn


def _by_code(body: dict) -> dict[str, dict]:
    return {kpi["code"]: kpi for kpi in body["indicators"]}


def test_the_api_answers_every_indicator_with_its_counts(refreshed, api_for, supervisor):
    api = api_for(supervisor)
    response = api.get("/kpis", quarter="2026Q4")
    assert response.status_code == 200, response.content
    kpis = _by_code(response.json())
    closed = kpis["complaints_closed_24h"]
    assert (closed["value"], closed["numerator"], closed["denominator"]) == (0.0, 0, 1)
    assert closed["target"]["value"] == 95.0 and closed["status"] == "missed"
    assert closed["plan"] and "24" in closed["definition"]
    coverage = kpis["personalised_coverage"]
    assert (coverage["value"], coverage["numerator"], coverage["denominator"]) == (0.0, 0, 1)
    assert coverage["status"] == "missed"
    assert kpis["resolution_business_p90"]["value"] == 600
    # The same days given as dates answer the same.
    same = api.get("/kpis", **{"from": "2026-10-01", "to": "2026-12-31"}).json()
    assert _by_code(same)["resolution_business_p90"] == kpis["resolution_business_p90"]
    by_agent = _by_code(api.get("/kpis", quarter="2026Q4", group_by="agent").json())
    assert sum(row["denominator"] for row in by_agent["resolution_rate"]["rows"]) == 3


def test_the_drill_down_lists_what_the_number_counts(refreshed, api_for, supervisor):
    api = api_for(supervisor)
    drill = api.get("/kpis/resolution_rate/cases", quarter="2026Q4", part="numerator").json()
    assert drill["count"] == 2
    numbers = {item["number"] for item in drill["items"]}
    assert numbers == {refreshed.cases["reopened"].number, refreshed.cases["quick"].number}
    page = api.get(
        "/kpis/resolution_rate/cases", quarter="2026Q4", part="denominator", limit=1, offset=2
    ).json()
    assert page["count"] == 3 and len(page["items"]) == 1


@pytest.mark.parametrize(
    "query",
    [
        {"quarter": "2026Q5"},
        {"from": "2026-10-01"},
        {"from": "2026-10-02", "to": "2026-10-01"},
        {"from": "2020-01-01", "to": "2026-10-01"},
        {"quarter": "2026Q4", "from": "2026-10-01", "to": "2026-10-02"},
        {"quarter": "2026Q4", "group_by": "planet"},
        {"quarter": "0000Q1"},
        {"from": "0001-01-01", "to": "0001-12-31"},
        {"from": "9999-12-30", "to": "9999-12-31"},
    ],
)
def test_bad_periods_and_slices_are_refused(refreshed, api_for, supervisor, query):
    response = api_for(supervisor).get("/kpis", **query)
    assert response.status_code in {400, 422}, query


def test_drill_refusals(refreshed, api_for, supervisor, agent):
    api = api_for(supervisor)
    assert api.get("/kpis/nothing/cases", quarter="2026Q4").status_code == 404
    assert api.get("/kpis/csat/cases", quarter="2026Q4", group_by="team").status_code == 422
    assert api.get("/kpis/csat/cases", quarter="2026Q4", target="3").status_code == 422
    assert api.get("/kpis/backlog/cases", quarter="2026Q4").status_code == 422
    assert api_for(agent).get("/kpis", quarter="2026Q4").status_code == 403
    assert api_for(agent).get("/kpis/csat/cases", quarter="2026Q4").status_code == 403


def test_the_dashboard_shows_the_numbers_and_opens_what_they_count(refreshed, client, supervisor):
    sign_in_with_second_factor(client, supervisor)
    page = client.get("/dashboard/?quarter=2026Q4").content.decode()
    assert "24" in page and "不适用" not in page
    card = page[page.index('data-kpi="complaints_closed_24h"') :]
    link = re.search(r'href="(/dashboard/complaints_closed_24h/\?[^"]+part=denominator)"', card)
    assert link is not None
    drill = client.get(link.group(1).replace("&amp;", "&")).content.decode()
    assert "<strong data-drill-count>1</strong>" in drill
    assert refreshed.cases["holiday"].number in drill
    by_team = client.get("/dashboard/?quarter=2026Q4&group_by=team")
    assert by_team.status_code == 200
    assert client.get("/dashboard/?from=2026-10-02&to=2026-10-01").status_code == 400
    assert client.get("/dashboard/nothing/?quarter=2026Q4").status_code == 404


def test_agents_do_not_see_the_dashboard(refreshed, client, agent):
    sign_in_with_second_factor(client, agent)
    assert client.get("/dashboard/").status_code == 403
    assert client.get("/dashboard/report/2026Q4/pdf/").status_code == 403


def test_the_evaluation_holds_the_apis_numbers(refreshed, api_for, supervisor, tmp_path):
    written = report_write("2026Q4", tmp_path, languages=("en",))
    xlsx = next(path for path in written if path.suffix == ".xlsx")
    sheet = load_workbook(xlsx, read_only=True)["Summary"]
    rows = list(sheet.iter_rows(values_only=True))
    header_at = next(i for i, row in enumerate(rows) if row and row[0] == "Code")
    header = [str(cell) for cell in rows[header_at]]
    code_at, value_at = header.index("Code"), header.index("Value")
    numbers = {row[code_at]: row[value_at] for row in rows[header_at + 1 :] if row and row[code_at]}
    api = _by_code(api_for(supervisor).get("/kpis", quarter="2026Q4").json())
    assert len(api) > 20 and set(api) <= set(numbers)
    for code, kpi in api.items():
        assert numbers[code] == kpi["value"], code
    teams = list(load_workbook(xlsx, read_only=True)["teams"].iter_rows(values_only=True))
    general = next(row for row in teams if row and row[0] == "综合服务组")
    assert general[1] == 66.7  # its resolution rate, as the API slices it
    by_team = _by_code(api_for(supervisor).get("/kpis", quarter="2026Q4", group_by="team").json())
    [line] = [r for r in by_team["resolution_rate"]["rows"] if r["label"] == "综合服务组"]
    assert line["value"] == general[1]


def test_the_pdf_carries_chinese_in_an_embedded_font(refreshed, tmp_path):
    written = report_write("2026Q4", tmp_path, languages=("zh-hans",))
    pdf = PdfReader(next(path for path in written if path.suffix == ".pdf"))
    text = "".join(page.extract_text() for page in pdf.pages)
    assert "季度服务评估" in text and "投诉" in text
    fonts = [
        font.get_object()
        for page in pdf.pages
        for font in (page["/Resources"].get("/Font") or {}).values()
    ]
    embedded = [
        font
        for font in fonts
        for descendant in font.get("/DescendantFonts", [])
        if any(
            key in descendant.get_object()["/FontDescriptor"]
            for key in ("/FontFile", "/FontFile2", "/FontFile3")
        )
    ]
    assert embedded


def test_the_command_writes_both_languages_and_the_dashboard_serves_them(
    refreshed, tmp_path, client, supervisor
):
    out = io.StringIO()
    call_command("report", "quarterly", "--quarter", "2026q4", "--out", str(tmp_path),
                 "--no-progress", stdout=out)  # fmt: skip
    names = sorted(path.name for path in tmp_path.iterdir())
    assert names == [
        "bankdesk-2026Q4-en.pdf",
        "bankdesk-2026Q4-en.xlsx",
        "bankdesk-2026Q4-zh-hans.pdf",
        "bankdesk-2026Q4-zh-hans.xlsx",
    ]
    sign_in_with_second_factor(client, supervisor)
    response = client.get("/dashboard/report/2026Q4/xlsx/?language=en")
    assert response.status_code == 200
    assert "bankdesk-2026Q4-en.xlsx" in response["Content-Disposition"]
    assert client.get("/dashboard/report/2026Q9/pdf/").status_code == 404
