"""The quarterly evaluation as plain data: what `evaluation.quarter_report` assembles and the
PDF and XLSX writers lay out. Every text is already in the report's language; every figure is
kept as a number (None where it cannot be measured) beside the text it is shown as."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Status = Literal["met", "near", "missed", "unmeasurable", "none"]
Cell = str | int | float | None


@dataclass(frozen=True)
class TrendPoint:
    label: str  # a quarter, "2026Q2"
    value: float | None


@dataclass(frozen=True)
class TargetLine:
    """One of the plan's targets, or an operational indicator, in the summary."""

    code: str
    name: str
    value: float | None
    value_text: str  # "96.2 %", "—", "not yet measurable"
    target_text: str  # "≥ 95 %", "" when the indicator has no target
    status: Status
    numerator: int | None
    denominator: int | None
    definition: str
    trend: tuple[TrendPoint, ...] = ()  # the last four quarters, oldest first, this one last


@dataclass(frozen=True)
class Table:
    """A table of the report; its rows are the numbers of one XLSX sheet."""

    key: str  # the sheet's name: short, ASCII, unique in the report
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    note: str = ""


@dataclass(frozen=True)
class Section:
    title: str
    paragraphs: tuple[str, ...] = ()
    tables: tuple[Table, ...] = ()


@dataclass(frozen=True)
class Report:
    language: str  # "zh-hans" or "en"
    title: str
    subtitle: str  # the bank and the quarter
    quarter: str  # "2026Q3"
    period_text: str  # "2026-07-01 – 2026-09-30"
    generated_at: datetime
    labels: dict[str, str]  # words the writers need: "value", "target", "status", "met", ...
    targets: tuple[TargetLine, ...]  # the plan's targets: the summary page
    operations: tuple[TargetLine, ...]  # the other indicators
    sections: tuple[Section, ...] = field(default=())

    def tables(self) -> list[Table]:
        """Every table behind the report, in order (the XLSX's sheets after the summary)."""
        return [table for section in self.sections for table in section.tables]
