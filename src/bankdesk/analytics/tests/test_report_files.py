"""The evaluation's files: the PDF embeds its CJK font and carries the report's words, long
tables flow over pages under their header, the XLSX keeps every figure as the number it is,
and a missing font is a clear error naming what to install. No database: a Report by hand."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from fontTools.fontBuilder import FontBuilder
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTCollection
from openpyxl import load_workbook
from pypdf import PdfReader

from bankdesk.analytics import fonts
from bankdesk.analytics.fonts import ReportFontMissing, collection_face, report_font
from bankdesk.analytics.report_model import Report, Section, Table, TargetLine, TrendPoint
from bankdesk.analytics.report_pdf import PDF_LABELS, report_pdf
from bankdesk.analytics.report_xlsx import XLSX_LABELS, report_xlsx

LABELS = {
    "period": "统计期间",
    "generated": "生成时间",
    "targets": "对照规划目标",
    "operations": "运营指标",
    "indicator": "指标",
    "code": "代码",
    "value": "数值",
    "target": "目标",
    "status": "状态",
    "trend": "近四个季度",
    "definition": "口径",
    "numerator": "分子",
    "denominator": "分母",
    "met": "达标",
    "near": "接近目标",
    "missed": "未达标",
    "unmeasurable": "暂无法计量",
    "none": "无目标",
}
QUARTERS = ("2025Q4", "2026Q1", "2026Q2", "2026Q3")


def _trend(*values: float | None) -> tuple[TrendPoint, ...]:
    return tuple(TrendPoint(label, value) for label, value in zip(QUARTERS, values, strict=True))


def _branch_table(rows: int) -> Table:
    return Table(
        key="branches",
        title="各网点投诉办结情况",
        columns=("网点", "投诉量", "24小时办结率（%）", "平均办结时长（小时）"),
        rows=tuple(
            (
                f"第{number:03d}号网点",
                number * 7,
                90 + number % 10 * 0.85,
                None if number % 5 else 3.5,
            )
            for number in range(1, rows + 1)
        ),
        note="办结率按受理时间计；— 表示当季无投诉。",
    )


def _evaluation(branch_rows: int = 12) -> Report:
    return Report(
        language="zh-hans",
        title="季度服务评估",
        subtitle="示范银行 · 2026年第三季度",
        quarter="2026Q3",
        period_text="2026-07-01 – 2026-09-30",
        generated_at=datetime(2026, 10, 8, 1, 30, tzinfo=UTC),
        labels=LABELS,
        targets=(
            TargetLine(
                code="complaint_24h",
                name="投诉24小时办结率",
                value=96.2,
                value_text="96.2 %",
                target_text="≥ 95 %",
                status="met",
                numerator=481,
                denominator=500,
                definition="当季受理的投诉中，24小时内办结的比例。",
                trend=_trend(93.1, 94.8, 95.5, 96.2),
            ),
            TargetLine(
                code="satisfaction",
                name="客户满意度",
                value=88.4,
                value_text="88.4 %",
                target_text="≥ 90 %",
                status="near",
                numerator=1768,
                denominator=2000,
                definition="回访中表示满意或非常满意的客户所占比例。",
                trend=_trend(None, 86.0, 87.9, 88.4),
            ),
            TargetLine(
                code="first_contact",
                name="首次接触解决率",
                value=None,
                value_text="—",
                target_text="≥ 70 %",
                status="unmeasurable",
                numerator=None,
                denominator=None,
                definition="本季度尚无足够的数据。",
            ),
        ),
        operations=(
            TargetLine(
                code="contacts",
                name="受理量",
                value=5321,
                value_text="5,321",
                target_text="",
                status="none",
                numerator=None,
                denominator=None,
                definition="各渠道新建的工单数。",
                trend=_trend(4980, 5102, 5230, 5321),
            ),
        ),
        sections=(
            Section(
                title="投诉处理",
                paragraphs=("本季度投诉24小时办结率达到规划目标。",),
                tables=(
                    _branch_table(branch_rows),
                    Table(
                        key="channels",
                        title="按渠道",
                        columns=("渠道", "受理量", "说明"),
                        rows=(("电话", 3021, "=SUM(B4:B5)"), ("微信", 2300, None)),
                    ),
                ),
            ),
        ),
    )


def _text(page: object) -> str:
    # Where a cell or a line ends, pypdf puts a space or a line break: the words matter here.
    return re.sub(r"\s+", "", page.extract_text())  # type: ignore[attr-defined]


def test_every_font_of_the_pdf_is_embedded(tmp_path):
    path = tmp_path / "evaluation.pdf"

    report_pdf(_evaluation(), path)

    reader = PdfReader(path)
    seen = 0
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            assert font["/Subtype"] == "/Type0", font["/BaseFont"]
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
            assert "/FontFile2" in descriptor or "/FontFile3" in descriptor, font["/BaseFont"]
            seen += 1
    assert seen >= len(reader.pages)


def test_pdf_carries_the_reports_words_in_chinese(tmp_path):
    path = tmp_path / "evaluation.pdf"

    report_pdf(_evaluation(), path)

    pages = PdfReader(path).pages
    cover, summary = _text(pages[0]), _text(pages[1])
    assert "季度服务评估" in cover and "2026-07-01–2026-09-30" in cover
    assert "2026-10-0809:30" in cover  # generated at, in the bank's zone (Asia/Shanghai)
    assert "对照规划目标" in summary
    assert "投诉24小时办结率" in summary and "96.2%" in summary and "≥95%" in summary
    assert "达标" in summary and "接近目标" in summary and "暂无法计量" in summary
    assert "当季受理的投诉中，24小时内办结的比例。" in summary
    assert "2026Q3" in summary  # the trend's quarters
    assert "运营指标" in summary and "受理量5,321无目标各渠道新建的工单数。" in summary


def test_long_table_flows_over_pages_under_its_header(tmp_path):
    path = tmp_path / "evaluation.pdf"

    report_pdf(_evaluation(branch_rows=300), path)

    texts = [_text(page) for page in PdfReader(path).pages]
    with_rows = [text for text in texts if "号网点" in text]
    assert len(with_rows) >= 5
    assert all("24小时办结率（%）" in text for text in with_rows)
    assert "第001号网点" in with_rows[0] and "第300号网点" in with_rows[-1]
    assert "第300号网点2,10090.003.5" in with_rows[-1]  # separators, decimals lined up
    assert all(f"{number}/{len(texts)}" in texts[number - 1] for number in range(2, len(texts) + 1))


def test_pdf_shows_an_unmeasurable_figure_as_a_dash(tmp_path):
    path = tmp_path / "evaluation.pdf"

    report_pdf(_evaluation(branch_rows=4), path)

    section = _text(PdfReader(path).pages[-1])
    assert "第004号网点2893.40—" in section  # 28 complaints, 93.40 %, no duration


def test_xlsx_keeps_every_figure_as_a_number(tmp_path):
    report = _evaluation()
    path = tmp_path / "evaluation.xlsx"

    report_xlsx(report, path)

    workbook = load_workbook(path)
    assert workbook.sheetnames == ["Summary", "branches", "channels"]
    summary = workbook["Summary"]
    header = [cell.value for cell in summary[3]]
    assert header[:8] == ["代码", "指标", "数值", "目标", "状态", "分子", "分母", "口径"]
    assert header[8:] == list(QUARTERS)
    rows = {row[0]: row for row in summary.iter_rows(min_row=4, values_only=True)}
    for line in (*report.targets, *report.operations):
        row = rows[line.code]
        assert row[1:8] == (
            line.name,
            line.value,
            line.target_text or None,
            LABELS[line.status],
            line.numerator,
            line.denominator,
            line.definition,
        )
        trend = {point.label: point.value for point in line.trend}
        assert row[8:] == tuple(trend.get(quarter) for quarter in QUARTERS)
    assert isinstance(rows["complaint_24h"][2], float) and rows["first_contact"][2] is None

    for table in report.tables():
        sheet = workbook[table.key]
        assert sheet["A1"].value == table.title
        assert tuple(cell.value for cell in sheet[3]) == table.columns
        assert tuple(sheet.iter_rows(min_row=4, values_only=True)) == table.rows
        assert sheet.freeze_panes == "A4"


def test_xlsx_text_that_looks_like_a_formula_stays_text(tmp_path):
    path = tmp_path / "evaluation.xlsx"

    report_xlsx(_evaluation(), path)

    cell = load_workbook(path)["channels"]["C4"]
    assert cell.value == "=SUM(B4:B5)" and cell.data_type == "s"


def test_both_writers_say_which_labels_they_read():
    assert set(PDF_LABELS) | set(XLSX_LABELS) <= set(LABELS)


def test_report_font_names_the_package_when_no_font_is_found(settings, monkeypatch, tmp_path):
    settings.BANKDESK_REPORT_FONT = ""
    monkeypatch.setattr(fonts, "FONT_CANDIDATES", ((tmp_path / "NotoSansCJK.ttc", None),))

    with pytest.raises(ReportFontMissing, match="fonts-noto-cjk") as raised:
        report_font()

    assert raised.value.code == "report_font_missing"


def test_report_font_setting_naming_a_missing_file_is_an_error(settings, monkeypatch, tmp_path):
    installed = tmp_path / "installed.ttf"
    installed.write_bytes(b"\x00\x01\x00\x00")
    monkeypatch.setattr(fonts, "FONT_CANDIDATES", ((installed, None),))
    settings.BANKDESK_REPORT_FONT = str(tmp_path / "gone.ttc")

    # Not a quiet fall-back to the installed font: the operator set something wrong.
    with pytest.raises(ReportFontMissing, match="fonts-noto-cjk") as raised:
        report_font()

    assert str(tmp_path / "gone.ttc") in raised.value.message
    assert raised.value.field == "BANKDESK_REPORT_FONT"


def test_report_font_setting_comes_before_the_system_fonts(settings, tmp_path):
    regular, bold = tmp_path / "Bank-Regular.ttf", tmp_path / "Bank-Bold.ttf"
    regular.write_bytes(b"\x00\x01\x00\x00")
    bold.write_bytes(b"\x00\x01\x00\x00")
    settings.BANKDESK_REPORT_FONT = str(regular)

    assert report_font() == regular
    assert fonts.report_font_bold() == bold


def _face(family: str) -> object:
    builder = FontBuilder(1000, isTTF=True)
    builder.setupGlyphOrder([".notdef", "uni4E2D"])
    builder.setupCharacterMap({0x4E2D: "uni4E2D"})
    pen = TTGlyphPen(None)
    pen.moveTo((0, 0))
    pen.lineTo((500, 0))
    pen.lineTo((500, 500))
    pen.closePath()
    builder.setupGlyf({".notdef": pen.glyph(), "uni4E2D": pen.glyph()})
    builder.setupHorizontalMetrics({".notdef": (500, 0), "uni4E2D": (1000, 0)})
    builder.setupHorizontalHeader(ascent=880, descent=-120)
    builder.setupNameTable({"familyName": family, "styleName": "Regular"})
    builder.setupOS2()
    builder.setupPost()
    return builder.font


def test_collection_face_is_the_simplified_chinese_one(tmp_path):
    path = tmp_path / "cjk.ttc"
    collection = TTCollection()
    collection.fonts = [
        _face(family) for family in ("Bank Sans JP", "Bank Sans KR", "Bank Sans SC")
    ]
    collection.save(path)

    assert collection_face(path) == 2


def test_collection_face_refuses_a_file_that_is_no_font(tmp_path):
    path = tmp_path / "font.ttc"
    path.write_text("not a font")

    with pytest.raises(ReportFontMissing, match="not a TrueType or OpenType font"):
        collection_face(path)
