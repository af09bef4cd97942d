"""The quarterly evaluation as an XLSX workbook, for whoever reworks its figures: a Summary
sheet of the plan's targets and the operational indicators, then one sheet per table.

Figures stay numbers and an unmeasurable one stays an empty cell, so a sheet sums and charts
without retyping. Words come from the report and `report.labels` (the keys in XLSX_LABELS).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from bankdesk.analytics.report_model import Cell, Report, Table, TargetLine

XLSX_LABELS = (
    "targets",
    "operations",
    "code",
    "indicator",
    "value",
    "target",
    "status",
    "numerator",
    "denominator",
    "definition",
    "met",
    "near",
    "missed",
    "unmeasurable",
    "none",
)

SUMMARY_SHEET = "Summary"
HEADER_ROW = 3  # row 1 the title, row 2 the subtitle or the table's note
# Excel refuses these in a sheet's name, and names longer than 31 characters.
SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
SHEET_NAME_LENGTH = 31
WIDEST_COLUMN = 60  # characters; longer texts wrap

TITLE_FONT = Font(bold=True, size=13)
NOTE_FONT = Font(italic=True, color="6C757D")
HEADER_FONT = Font(bold=True, color="17375E")
HEADER_FILL = PatternFill("solid", fgColor="E8EDF4")
GROUP_FONT = Font(bold=True)
GROUP_FILL = PatternFill("solid", fgColor="F6F8FA")
HEADER_BORDER = Border(bottom=Side(style="thin", color="9EA3A8"))
WRAP = Alignment(wrap_text=True, vertical="top")
COUNT_FORMAT = "#,##0"


def report_xlsx(report: Report, path: Path) -> None:
    """Write the evaluation to `path` as an XLSX workbook."""
    workbook = Workbook()
    summary = workbook.active
    summary.title = SUMMARY_SHEET
    _summary_sheet(summary, report)
    taken = {SUMMARY_SHEET.casefold()}
    for table in report.tables():
        _check_sheet_name(table.key, taken)
        taken.add(table.key.casefold())
        _table_sheet(workbook.create_sheet(table.key), table)
    workbook.properties.title = report.title
    workbook.properties.subject = report.subtitle
    workbook.properties.creator = "bankdesk"
    workbook.properties.language = report.language
    workbook.save(path)


def _label(report: Report, key: str) -> str:
    return report.labels.get(key, key)


def _check_sheet_name(key: str, taken: set[str]) -> None:
    """A table's key names its sheet: Excel's rules, checked here rather than by a broken file."""
    if not key or len(key) > SHEET_NAME_LENGTH or SHEET_NAME_FORBIDDEN.search(key):
        raise ValueError(f"table key {key!r} cannot name an Excel sheet")
    if key.casefold() in taken:
        raise ValueError(f"table key {key!r} names two sheets")


def _put(sheet: Any, row: int, column: int, value: Cell) -> Any:
    """One value into one cell; a text stays a text even when it starts with "=", and
    characters XLSX cannot hold (control characters) are dropped rather than failing the file."""
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    cell = sheet.cell(row=row, column=column, value=value)
    if isinstance(value, str):
        cell.data_type = "s"
    elif isinstance(value, int):
        cell.number_format = COUNT_FORMAT
    return cell


def _headings(sheet: Any, title: str, subtitle: str, columns: Sequence[str]) -> None:
    _put(sheet, 1, 1, title).font = TITLE_FONT
    if subtitle:
        _put(sheet, 2, 1, subtitle).font = NOTE_FONT
    for index, column in enumerate(columns, start=1):
        cell = _put(sheet, HEADER_ROW, index, column)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.border = HEADER_BORDER
        cell.alignment = WRAP
    sheet.freeze_panes = sheet.cell(row=HEADER_ROW + 1, column=1)


def _summary_sheet(sheet: Any, report: Report) -> None:
    lines = (*report.targets, *report.operations)
    quarters = sorted({point.label for line in lines for point in line.trend})
    keys = ("code", "indicator", "value", "target", "status", "numerator", "denominator")
    columns = [*(_label(report, key) for key in keys), _label(report, "definition"), *quarters]
    _headings(sheet, report.title, f"{report.subtitle} · {report.period_text}", columns)
    row = HEADER_ROW + 1
    for group, group_lines in (("targets", report.targets), ("operations", report.operations)):
        if not group_lines:
            continue
        _put(sheet, row, 1, _label(report, group)).font = GROUP_FONT
        for column in range(1, len(columns) + 1):
            sheet.cell(row=row, column=column).fill = GROUP_FILL
        row += 1
        for line in group_lines:
            _summary_row(sheet, row, report, line, quarters)
            row += 1
    _fit_columns(sheet, len(columns), wrapped=frozenset({len(keys) + 1}))


def _summary_row(
    sheet: Any, row: int, report: Report, line: TargetLine, quarters: Sequence[str]
) -> None:
    values: tuple[Cell, ...] = (
        line.code,
        line.name,
        line.value,
        line.target_text,
        _label(report, line.status),
        line.numerator,
        line.denominator,
        line.definition,
    )
    for column, value in enumerate(values, start=1):
        _put(sheet, row, column, value)
    sheet.cell(row=row, column=len(values)).alignment = WRAP
    trend = {point.label: point.value for point in line.trend}
    for offset, quarter in enumerate(quarters, start=len(values) + 1):
        _put(sheet, row, offset, trend.get(quarter))


def _table_sheet(sheet: Any, table: Table) -> None:
    _headings(sheet, table.title, table.note, table.columns)
    for row, cells in enumerate(table.rows, start=HEADER_ROW + 1):
        for column, value in enumerate(cells, start=1):
            _put(sheet, row, column, value)
    _fit_columns(sheet, len(table.columns))


def _display_width(value: object) -> int:
    """Characters a value takes on screen: Chinese characters take two columns."""
    if value is None:
        return 0
    text = f"{value:,}" if isinstance(value, int | float) else str(value)
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _fit_columns(sheet: Any, count: int, wrapped: frozenset[int] = frozenset()) -> None:
    """Widths from the header row down (the title would make the first column absurd)."""
    for column in range(1, count + 1):
        widest = max(
            (
                _display_width(sheet.cell(row=row, column=column).value)
                for row in range(HEADER_ROW, sheet.max_row + 1)
            ),
            default=0,
        )
        width = min(max(widest + 2, 8), WIDEST_COLUMN)
        if column in wrapped:
            width = min(width, 48)
        sheet.column_dimensions[get_column_letter(column)].width = width
