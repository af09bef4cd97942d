"""The quarterly evaluation as a PDF for the bank's management meeting: a cover, the plan's
targets with a traffic light and their last four quarters, the operational indicators, then
each section's text and tables.

Every word on the page comes from the report, its texts or `report.labels` (the keys in
PDF_LABELS); this module only lays them out. The CJK font is embedded (see `fonts`), so the
file reads the same on a machine without Chinese fonts.
"""

from __future__ import annotations

import dataclasses
import string
from collections.abc import Sequence
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import cast

from django.utils import timezone
from fpdf import FPDF, FontFace
from fpdf.enums import WrapMode

from bankdesk.analytics.fonts import embeddable_font, report_font, report_font_bold
from bankdesk.analytics.report_model import Cell, Report, Status, Table, TargetLine

PDF_LABELS = (
    "period",
    "generated",
    "targets",
    "operations",
    "indicator",
    "value",
    "target",
    "status",
    "trend",
    "definition",
    "met",
    "near",
    "missed",
    "unmeasurable",
    "none",
)

FAMILY = "report"
MISSING = "—"  # a figure that cannot be measured, in tables and under trend bars
MARGIN = 18.0  # mm, all four sides of A4

Colour = tuple[int, int, int]
INK: Colour = (33, 37, 41)
MUTED: Colour = (108, 117, 125)
ACCENT: Colour = (23, 55, 94)  # headings: the bank's report navy
RULE: Colour = (210, 215, 222)
HEADING_FILL: Colour = (232, 237, 244)
ZEBRA: Colour = (246, 248, 250)
TREND_BAR: Colour = (184, 196, 214)
GREY: Colour = (158, 163, 168)
STATUS_COLOURS: dict[Status, Colour] = {
    "met": (46, 125, 50),
    "near": (226, 140, 0),
    "missed": (198, 40, 40),
    "unmeasurable": GREY,
    "none": GREY,
}

# The summary rows' columns, in mm from the left margin: dot, name, value, trend chart.
NAME_X, NAME_W = 7.0, 84.0
VALUE_X, VALUE_W = 95.0, 37.0
TREND_X, TREND_W = 136.0, 38.0
TREND_H = 19.0
TREND_SLOTS = 4  # the last four quarters, this one rightmost


class _EvaluationPdf(FPDF):
    def __init__(self, report: Report) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.report = report

    def footer(self) -> None:
        if self.page_no() == 1:  # the cover stands alone
            return
        self.set_y(-12)
        self.set_font(FAMILY, "", 7.5)
        self.set_text_color(*MUTED)
        self.cell(self.epw * 0.8, 5, f"{self.report.title} · {self.report.subtitle}")
        self.cell(self.epw * 0.2, 5, f"{self.page_no()} / {{nb}}", align="R")


def report_pdf(report: Report, path: Path) -> None:
    """Write the evaluation to `path` as an A4 PDF in the report's language."""
    regular, bold = report_font(), report_font_bold()
    with TemporaryDirectory(prefix="bankdesk-report-") as directory:
        text = _drawn_text(report)
        pdf = _EvaluationPdf(report)
        pdf.add_font(FAMILY, "", embeddable_font(regular, text, Path(directory)))
        pdf.add_font(FAMILY, "B", embeddable_font(bold, text, Path(directory)))
        _lay_out(pdf, report)
        pdf.output(str(path))


def _drawn_text(report: Report) -> str:
    """Every character the PDF may draw, for the embedded font: the report's texts, and the
    digits and signs of figures and page numbers."""
    parts = [string.printable, MISSING, "·"]

    def collect(value: object) -> None:
        if isinstance(value, str):
            parts.append(value)
        elif isinstance(value, dict):
            for item in value.values():
                collect(item)
        elif isinstance(value, tuple | list):
            for item in value:
                collect(item)

    collect(dataclasses.astuple(report))
    return "".join(parts)


def _lay_out(pdf: FPDF, report: Report) -> None:
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(auto=True, margin=MARGIN)
    pdf.set_title(report.title)
    pdf.set_subject(report.subtitle)
    pdf.set_creator("bankdesk")
    pdf.set_lang("zh-Hans" if report.language.startswith("zh") else report.language)
    pdf.set_creation_date(report.generated_at)

    _cover(pdf, report)
    pdf.add_page()
    _targets(pdf, report)
    _operations(pdf, report)
    for number, section in enumerate(report.sections):
        if number == 0:
            pdf.add_page()
        else:
            pdf.ln(6)
            _room(pdf, 40)
        _heading(pdf, section.title)
        pdf.set_font(FAMILY, "", 9.5)
        pdf.set_text_color(*INK)
        for paragraph in section.paragraphs:
            pdf.multi_cell(0, 5.4, paragraph, align="L", wrapmode=_wrap(report))
            pdf.ln(2)
        for table in section.tables:
            _section_table(pdf, report, table)


def _label(report: Report, key: str) -> str:
    # A missing label shows as its key: visible in review, never a crash at print time.
    return report.labels.get(key, key)


def _wrap(report: Report) -> WrapMode:
    # Chinese has no spaces to break at; English must not break inside a word.
    return WrapMode.CHAR if report.language.startswith("zh") else WrapMode.WORD


def _room(pdf: FPDF, height: float) -> None:
    """Start a new page unless `height` mm still fit on this one (keeps a heading with its text)."""
    if pdf.get_y() + height > pdf.page_break_trigger:
        pdf.add_page()


def _heading(pdf: FPDF, text: str) -> None:
    pdf.set_font(FAMILY, "B", 15)
    pdf.set_text_color(*ACCENT)
    pdf.multi_cell(0, 8, text, align="L")
    pdf.set_draw_color(*ACCENT)
    pdf.set_line_width(0.5)
    left = pdf.l_margin + pdf.c_margin  # under the text, which cells indent by their margin
    pdf.line(left, pdf.get_y() + 1, left + 24, pdf.get_y() + 1)
    pdf.ln(6)


def _text_height(pdf: FPDF, width: float, line_height: float, text: str, wrap: WrapMode) -> float:
    """The height `text` takes in a `width` mm column in the current font, without drawing it."""
    if not text:
        return 0.0
    height = pdf.multi_cell(
        width, line_height, text, align="L", dry_run=True, output="HEIGHT", wrapmode=wrap
    )
    return cast(float, height)


def _cover(pdf: FPDF, report: Report) -> None:
    pdf.add_page()
    pdf.set_fill_color(*ACCENT)
    pdf.rect(0, 0, pdf.w, 10, style="F")

    left, top = pdf.l_margin + 8, 88.0
    pdf.set_xy(left, top)
    pdf.set_font(FAMILY, "B", 26)
    pdf.set_text_color(*ACCENT)
    pdf.multi_cell(pdf.epw - 8, 12, report.title, align="L", wrapmode=_wrap(report))
    pdf.ln(2)
    pdf.set_x(left)
    pdf.set_font(FAMILY, "", 14)
    pdf.set_text_color(*INK)
    pdf.multi_cell(pdf.epw - 8, 8, report.subtitle, align="L", wrapmode=_wrap(report))
    pdf.rect(pdf.l_margin, top, 2.2, pdf.get_y() - top, style="F")

    generated = report.generated_at
    if timezone.is_aware(generated):
        generated = timezone.localtime(generated)  # the bank's zone, as its staff read it
    facts = (
        (_label(report, "period"), report.period_text),
        (_label(report, "generated"), generated.strftime("%Y-%m-%d %H:%M")),
    )
    pdf.set_y(pdf.h - 62)
    pdf.set_draw_color(*RULE)
    pdf.set_line_width(0.3)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.ln(4)
    for label, text in facts:
        pdf.set_font(FAMILY, "", 9)
        pdf.set_text_color(*MUTED)
        pdf.cell(32, 7, label)
        pdf.set_font(FAMILY, "", 11)
        pdf.set_text_color(*INK)
        pdf.cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")


def _targets(pdf: FPDF, report: Report) -> None:
    """The plan's targets, one row each: the light, the name and definition, the value against
    the target, and the last four quarters."""
    _heading(pdf, _label(report, "targets"))
    _target_columns(pdf, report)
    for line in report.targets:
        _target_row(pdf, report, line)


def _target_columns(pdf: FPDF, report: Report) -> None:
    x = pdf.l_margin
    y = pdf.get_y()
    pdf.set_font(FAMILY, "", 7.5)
    pdf.set_text_color(*MUTED)
    for offset, width, key, align in (
        (NAME_X, NAME_W, "indicator", "L"),
        (VALUE_X, VALUE_W, "value", "L"),
        (TREND_X, TREND_W, "trend", "C"),
    ):
        pdf.set_xy(x + offset, y)
        pdf.cell(width, 5, _label(report, key), align=align)
    pdf.set_draw_color(*RULE)
    pdf.set_line_width(0.3)
    pdf.line(x, y + 6, pdf.w - pdf.r_margin, y + 6)
    pdf.set_y(y + 6)


def _target_row(pdf: FPDF, report: Report, line: TargetLine) -> None:
    wrap = _wrap(report)
    pdf.set_font(FAMILY, "B", 10.5)
    name_height = _text_height(pdf, NAME_W, 5.4, line.name, wrap)
    pdf.set_font(FAMILY, "", 7.5)
    definition_height = _text_height(pdf, NAME_W, 3.7, line.definition, wrap)
    height = max(name_height + 1.5 + definition_height, TREND_H + 1, 18.0) + 7
    if pdf.get_y() + height > pdf.page_break_trigger:
        pdf.add_page()
        _target_columns(pdf, report)

    x, top = pdf.l_margin, pdf.get_y() + 3.5
    colour = STATUS_COLOURS[line.status]
    pdf.set_fill_color(*colour)
    pdf.circle(x + 2.2, top + 2.7, 2.0, style="F")

    pdf.set_xy(x + NAME_X, top)
    pdf.set_font(FAMILY, "B", 10.5)
    pdf.set_text_color(*INK)
    pdf.multi_cell(NAME_W, 5.4, line.name, align="L", wrapmode=wrap)
    if line.definition:
        pdf.set_xy(x + NAME_X, pdf.get_y() + 1.5)
        pdf.set_font(FAMILY, "", 7.5)
        pdf.set_text_color(*MUTED)
        pdf.multi_cell(NAME_W, 3.7, line.definition, align="L", wrapmode=wrap)

    pdf.set_xy(x + VALUE_X, top - 0.5)
    pdf.set_font(FAMILY, "B", 14)
    pdf.set_text_color(*INK)
    pdf.cell(VALUE_W, 7, line.value_text, new_x="LEFT", new_y="NEXT")
    pdf.set_font(FAMILY, "", 8)
    if line.target_text:
        pdf.set_text_color(*MUTED)
        pdf.cell(
            VALUE_W,
            4.5,
            f"{_label(report, 'target')} {line.target_text}",
            new_x="LEFT",
            new_y="NEXT",
        )
    pdf.set_text_color(*colour)
    pdf.cell(VALUE_W, 4.5, _label(report, line.status))

    _trend_chart(pdf, x + TREND_X, top, line, colour)

    bottom = top - 3.5 + height
    pdf.set_draw_color(*RULE)
    pdf.set_line_width(0.2)
    pdf.line(x, bottom, pdf.w - pdf.r_margin, bottom)
    pdf.set_y(bottom)


def _trend_chart(pdf: FPDF, x: float, y: float, line: TargetLine, colour: Colour) -> None:
    """Bars of the last four quarters from a zero baseline (a cut axis would overstate small
    moves), each with its figure above and its quarter below; this quarter in the light's colour."""
    points = line.trend[-TREND_SLOTS:]
    if not points:
        return
    slot = TREND_W / TREND_SLOTS
    bar_width = slot * 0.55
    baseline = y + TREND_H - 4
    tallest = baseline - (y + 3.5)
    largest = max((point.value for point in points if point.value is not None), default=0.0)
    pdf.set_draw_color(*RULE)
    pdf.set_line_width(0.2)
    pdf.line(x, baseline, x + TREND_W, baseline)
    first_slot = TREND_SLOTS - len(points)
    for index, point in enumerate(points):
        centre = x + (first_slot + index + 0.5) * slot
        is_this_quarter = index == len(points) - 1
        figure, figure_y = MISSING, baseline - 3
        if point.value is not None:
            figure = _number(point.value)
            if largest > 0 and point.value > 0:
                bar_height = max(tallest * point.value / largest, 0.4)
                pdf.set_fill_color(*(colour if is_this_quarter else TREND_BAR))
                pdf.rect(centre - bar_width / 2, baseline - bar_height, bar_width, bar_height, "F")
                figure_y = baseline - bar_height - 3
        pdf.set_font(FAMILY, "B" if is_this_quarter else "", 6)
        pdf.set_text_color(*(INK if is_this_quarter else MUTED))
        pdf.set_xy(centre - slot / 2, figure_y)
        pdf.cell(slot, 2.8, figure, align="C")
        pdf.set_font(FAMILY, "", 5.5)
        pdf.set_text_color(*MUTED)
        pdf.set_xy(centre - slot / 2, baseline + 0.8)
        pdf.cell(slot, 2.8, point.label, align="C")


def _operations(pdf: FPDF, report: Report) -> None:
    """The other indicators as one table: name, value, target, status and definition."""
    if not report.operations:
        return
    pdf.ln(8)
    _room(pdf, 45)
    _heading(pdf, _label(report, "operations"))
    columns = [_label(report, key) for key in ("indicator", "value", "target", "status")]
    columns.append(_label(report, "definition"))
    rows = [
        (line.name, line.value_text, line.target_text, _label(report, line.status), line.definition)
        for line in report.operations
    ]
    small = FontFace(size_pt=7.5, color=MUTED)
    styles = [
        (None, FontFace(emphasis="BOLD"), None, FontFace(color=STATUS_COLOURS[line.status]), small)
        for line in report.operations
    ]
    _table(pdf, report, columns, rows, ("L", "R", "R", "L", "L"), (40, 22, 20, 20, 72), styles)


def _section_table(pdf: FPDF, report: Report, table: Table) -> None:
    _room(pdf, 30)
    pdf.ln(2)
    pdf.set_font(FAMILY, "B", 10.5)
    pdf.set_text_color(*ACCENT)
    pdf.multi_cell(0, 6, table.title, align="L", wrapmode=_wrap(report))
    pdf.ln(1)
    decimals = [_column_decimals(table.rows, index) for index in range(len(table.columns))]
    is_numeric = [_is_numeric_column(table.rows, index) for index in range(len(table.columns))]
    rows = [
        tuple(_cell_text(cell, decimals[index]) for index, cell in enumerate(row))
        for row in table.rows
    ]
    aligns = tuple("R" if numeric else "L" for numeric in is_numeric)
    widths = _column_widths(pdf, table.columns, rows, is_numeric)
    _table(pdf, report, table.columns, rows, aligns, widths)
    if table.note:
        pdf.ln(1.5)
        pdf.set_font(FAMILY, "", 7.5)
        pdf.set_text_color(*MUTED)
        pdf.multi_cell(0, 3.8, table.note, align="L", wrapmode=_wrap(report))
    pdf.ln(5)


def _table(
    pdf: FPDF,
    report: Report,
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    aligns: Sequence[str],
    widths: Sequence[float],
    styles: Sequence[Sequence[FontFace | None]] | None = None,
) -> None:
    """A table that flows over pages with its header row on top of each."""
    pdf.set_font(FAMILY, "", 8.5)
    pdf.set_text_color(*INK)
    pdf.set_draw_color(*RULE)
    pdf.set_line_width(0.2)
    pdf.set_fill_color(255, 255, 255)  # fpdf2 paints the rows between the zebra ones with it
    with pdf.table(
        col_widths=tuple(widths),
        # Summed widths may pass the page's by a rounding error, which fpdf2 refuses.
        width=min(sum(widths), pdf.epw),
        align="LEFT",
        text_align=tuple(aligns),  # one per column
        v_align="TOP",
        borders_layout="HORIZONTAL_LINES",
        headings_style=FontFace(emphasis="BOLD", color=ACCENT, fill_color=HEADING_FILL),
        cell_fill_color=ZEBRA,
        cell_fill_mode="EVEN_ROWS",
        line_height=4.2,
        padding=(1.1, 1.6),
        wrapmode=_wrap(report),
        repeat_headings=1,
    ) as table:
        table.row(columns)
        for number, cells in enumerate(rows):
            row = table.row()
            for index, text in enumerate(cells):
                row.cell(text, style=styles[number][index] if styles else None)


def _is_numeric_column(rows: Sequence[Sequence[Cell]], index: int) -> bool:
    values = [row[index] for row in rows if row[index] is not None]
    return bool(values) and all(isinstance(value, int | float) for value in values)


def _column_decimals(rows: Sequence[Sequence[Cell]], index: int) -> int:
    """Decimals that show every figure of a column (at most two), so its points line up."""
    decimals = 0
    for row in rows:
        value = row[index]
        if isinstance(value, float):
            text = f"{value:.2f}".rstrip("0")
            decimals = max(decimals, len(text.partition(".")[2]))
    return decimals


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _cell_text(cell: Cell, decimals: int) -> str:
    if cell is None:
        return MISSING
    if isinstance(cell, int):
        return f"{cell:,}"
    if isinstance(cell, float):
        return f"{cell:,.{decimals}f}"
    return cell


def _column_widths(
    pdf: FPDF, columns: Sequence[str], rows: Sequence[Sequence[str]], is_numeric: Sequence[bool]
) -> tuple[float, ...]:
    """Widths from the texts, filling the page. With room to spare, the text columns take it and
    the figures stay close together; short of room, narrow columns keep what they need and the
    wide ones share the rest in proportion (and wrap)."""
    padding = 3.6
    pdf.set_font(FAMILY, "B", 8.5)
    natural = [pdf.get_string_width(column) + padding for column in columns]
    pdf.set_font(FAMILY, "", 8.5)
    for row in rows[:400]:  # enough to size a column; a long table repeats its shape
        for index, text in enumerate(row):
            natural[index] = max(natural[index], pdf.get_string_width(text) + padding)
    natural = [
        max(width, 18.0) if numeric else width
        for width, numeric in zip(natural, is_numeric, strict=True)
    ]
    available = pdf.epw
    if sum(natural) <= available:
        growing = [index for index, numeric in enumerate(is_numeric) if not numeric]
        growing = growing or list(range(len(natural)))
        spare = available - sum(natural)
        base = sum(natural[index] for index in growing)
        return tuple(
            width + spare * width / base if index in growing else width
            for index, width in enumerate(natural)
        )
    fixed: dict[int, float] = {}
    while True:
        free = [index for index in range(len(natural)) if index not in fixed]
        share = (available - sum(fixed.values())) / len(free)
        narrow = {index: natural[index] for index in free if natural[index] <= share}
        if not narrow or len(narrow) == len(free):
            break
        fixed.update(narrow)
    rest = available - sum(fixed.values())
    wide = sum(natural[index] for index in range(len(natural)) if index not in fixed)
    return tuple(
        fixed[index] if index in fixed else natural[index] * rest / wide
        for index in range(len(natural))
    )
