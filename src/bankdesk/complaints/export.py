"""The complaint register as the regulator asks for it: one row per complaint received in a
period, as an XLSX workbook, its headers in Chinese or English.

The customer appears only as a masked customer number (never a name or a full identifier).
Text a complainant or an officer wrote is escaped where a spreadsheet would read it as a
formula (a cell starting with = + - @), so opening the register never runs anything.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from io import BytesIO
from typing import Any

from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.utils import timezone, translation

from bankdesk.complaints.choices import ExtensionStatus
from bankdesk.complaints.hotspots import Period
from bankdesk.complaints.models import Complaint, ComplaintClass
from bankdesk.lib.errors import InvalidInput
from bankdesk.lib.masking import mask_reference
from bankdesk.sla.choices import ClockStatus, Metric
from bankdesk.sla.models import SlaClock

LANGUAGES = ("zh-hans", "en")
# The register's columns, as the regulator's template names them. A fixed format, not screen
# text: both languages are written here, so the file reads the same on every install.
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("case_number", "工单编号", "Case number"),
    ("received", "受理时间", "Received"),
    ("channel", "投诉渠道", "Channel"),
    ("customer", "客户号（脱敏）", "Customer (masked)"),
    ("product", "产品或服务", "Product or service"),
    ("issue", "投诉问题", "Issue"),
    ("cause", "投诉原因", "Cause"),
    ("regulator_forwarded", "监管转办", "Forwarded by the regulator"),
    ("regulator_reference", "监管转办编号", "Regulator's reference"),
    ("disputed_amount", "争议金额（元）", "Disputed amount"),
    ("demand", "客户诉求", "Customer's demand"),
    ("owner", "投诉责任人", "Complaint owner"),
    ("acknowledged", "告知受理时间", "Acknowledged"),
    ("decided", "作出处理决定时间", "Decided"),
    ("closed", "结案时间", "Closed"),
    ("within_24h", "24小时内办结", "Closed within 24 hours"),
    ("statutory_deadline", "法定处理时限", "Statutory deadline"),
    ("statutory_met", "是否在法定时限内", "Statutory deadline met"),
    ("extensions", "延期次数", "Extensions"),
    ("decision", "处理决定", "Decision"),
    ("remedy", "补救措施", "Remedy"),
    ("customer_response", "客户反馈", "Customer's response"),
    ("status", "状态", "Status"),
)
YES_NO = {"zh-hans": ("是", "否"), "en": ("Yes", "No")}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
DATE_FORMAT = "yyyy-mm-dd hh:mm"


def cell_text(value: str) -> str:
    """Text as a spreadsheet shows it and never runs it: a leading ' keeps a formula a text."""
    return "'" + value if value.startswith(FORMULA_START) else value


def _local(moment: datetime | None) -> datetime | None:
    # Spreadsheets have no time zones: the bank's local time, as its staff read it.
    return timezone.localtime(moment).replace(tzinfo=None) if moment else None


def _statutory(clocks: list[SlaClock], now: datetime) -> tuple[datetime | None, bool | None]:
    """The regulator's decision deadline and whether it was met (None: not yet known)."""
    if not clocks:
        return None, None
    clock = clocks[0]
    if clock.met_at is not None:
        return clock.due_at, clock.due_at is None or clock.met_at <= clock.due_at
    if clock.breached_at is not None or (
        clock.due_at is not None and clock.status != ClockStatus.CANCELLED and now > clock.due_at
    ):
        return clock.due_at, False
    return clock.due_at, None


def register_records(
    period: Period, within: QuerySet[Complaint] | None = None
) -> QuerySet[Complaint]:
    """The period's complaints, oldest first, with all the register reads in a few queries."""
    complaints = within if within is not None else Complaint.objects.all()
    statutory = SlaClock.objects.filter(
        target__policy__regulator__gt="", metric=Metric.DECISION
    ).order_by("id")
    return (
        period.within(complaints)
        .select_related("case", "owner", "product", "issue", "cause")
        .annotate(
            customer_number=F("case__customer__customer_number"),
            approved_extensions=Count(
                "extensions", filter=Q(extensions__status=ExtensionStatus.APPROVED)
            ),
        )
        .prefetch_related(Prefetch("case__sla_clocks", queryset=statutory, to_attr="statutory"))
        .order_by("received_at", "id")
    )


def register_rows(
    period: Period, language: str, within: QuerySet[Complaint] | None = None
) -> Iterator[list[Any]]:
    """The header, then one row per complaint, in `language` (zh-hans or en)."""
    if language not in LANGUAGES:
        raise InvalidInput("the register is in Chinese (zh-hans) or English (en)", field="lang")
    english = language == "en"
    yes, no = YES_NO[language]

    def flag(value: bool | None) -> str:
        return "" if value is None else yes if value else no

    def name(node: ComplaintClass | None) -> str:
        if node is None:
            return ""
        return cell_text(node.name_en or node.name if english else node.name)

    now = timezone.now()
    yield [en if english else zh for _key, zh, en in COLUMNS]
    with translation.override(language):
        for record in register_records(period, within).iterator(chunk_size=500):
            deadline, met = _statutory(record.case.statutory, now)  # type: ignore[attr-defined]
            number = record.customer_number  # type: ignore[attr-defined]
            owner = record.owner
            yield [
                record.case.number,
                _local(record.received_at),
                record.get_channel_display(),
                mask_reference(number) if number else "",
                name(record.product),
                name(record.issue),
                name(record.cause),
                flag(record.regulator_forwarded),
                cell_text(record.regulator_reference),
                record.disputed_amount,
                cell_text(record.demand),
                cell_text(owner.get_full_name() or owner.username) if owner else "",
                _local(record.acknowledged_at),
                _local(record.decided_at),
                _local(record.closed_at),
                flag(record.closed_within_24h),
                _local(deadline),
                flag(met),
                record.approved_extensions,  # type: ignore[attr-defined]
                cell_text(record.decision),
                cell_text(record.remedy),
                record.get_customer_response_display() if record.customer_response else "",
                record.get_status_display(),
            ]


def complaint_register_xlsx(
    *, period: Period, language: str, within: QuerySet[Complaint] | None = None
) -> bytes:
    """The register for `period` as an XLSX file's bytes (streamed row by row as it is built)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("投诉登记簿" if language != "en" else "Complaint register")
    sheet.freeze_panes = "B2"

    def dated(value: datetime) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = DATE_FORMAT
        return cell

    for row in register_rows(period, language, within):
        sheet.append([dated(v) if isinstance(v, datetime) else v for v in row])
    out = BytesIO()
    workbook.save(out)
    return out.getvalue()
