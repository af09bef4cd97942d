"""The complaint register as an XLSX workbook, read back as the regulator would: headers in
Chinese or English, one row per complaint of the period, the statutory deadline and whether it
was met, the customer masked, and nothing a spreadsheet would run as a formula."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from io import BytesIO

import pytest
import time_machine
from openpyxl import load_workbook

from bankdesk.complaints.export import COLUMNS, cell_text, complaint_register_xlsx
from bankdesk.complaints.hotspots import Period
from bankdesk.complaints.models import Complaint
from bankdesk.complaints.services import (
    Details,
    complaint_close,
    complaint_decide,
    complaint_details_set,
    complaint_owner_set,
    complaint_response_record,
)
from bankdesk.lib.errors import InvalidInput
from bankdesk.tickets.services import case_create

pytestmark = pytest.mark.django_db

SEPTEMBER = Period.of_dates(date(2026, 9, 1), date(2026, 10, 1))


def local(text: str) -> datetime:
    return datetime.fromisoformat(f"{text}+08:00")


@pytest.fixture
def register(categories, customer, complaint_officer) -> tuple[Complaint, Complaint]:
    """A regulator-forwarded complaint decided in two days and closed; one still open."""
    with time_machine.travel(local("2026-09-20T10:00:00"), tick=False):
        case = case_create(subject="信用卡年费重复扣收", channel="email", actor=None,
                           category=categories["complaint_fees"], customer=customer,
                           text="我要投诉，年费被扣了两次。")  # fmt: skip
        decided = Complaint.objects.get(case=case)
        complaint_owner_set(complaint=decided, owner=complaint_officer, actor=complaint_officer)
        details = Details(
            demand='=HYPERLINK("http://example.invalid","退款")',
            disputed_amount=Decimal("300.00"),
            regulator_forwarded=True,
            regulator_reference="+NFRA-2026-0917",
        )
        complaint_details_set(complaint=decided, details=details, actor=complaint_officer)
    with time_machine.travel(local("2026-09-22T11:00:00"), tick=False):
        complaint_decide(complaint=decided, decision="重复扣收属实", remedy="-退还 300 元",
                         actor=complaint_officer)  # fmt: skip
        complaint_response_record(complaint=decided, response="confirmed", actor=complaint_officer)
        complaint_close(complaint=decided, actor=complaint_officer)
    with time_machine.travel(local("2026-09-25T09:00:00"), tick=False):
        case = case_create(subject="网点排队太久", channel="branch", actor=None,
                           category=categories["complaint_fees"],
                           text="@所有人 排队两小时")  # fmt: skip
    with time_machine.travel(local("2026-10-02T09:00:00"), tick=False):
        case_create(subject="十月的投诉", channel="phone", actor=None,
                    category=categories["complaint_fees"])  # fmt: skip
    return Complaint.objects.get(pk=decided.pk), Complaint.objects.get(case=case)


def _sheet(language: str) -> list[dict[str, object]]:
    book = load_workbook(BytesIO(complaint_register_xlsx(period=SEPTEMBER, language=language)))
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    header = rows[0]
    return [dict(zip(header, row, strict=True)) for row in rows[1:]]


def test_the_register_has_the_regulators_columns_in_chinese_and_in_english(register) -> None:
    for language, names in (("zh-hans", [c[1] for c in COLUMNS]), ("en", [c[2] for c in COLUMNS])):
        book = load_workbook(BytesIO(complaint_register_xlsx(period=SEPTEMBER, language=language)))
        assert [c.value for c in book.worksheets[0][1]] == names
    assert "工单编号" in [c[1] for c in COLUMNS] and "Statutory deadline" in [c[2] for c in COLUMNS]
    with pytest.raises(InvalidInput) as caught:
        complaint_register_xlsx(period=SEPTEMBER, language="fr")
    assert caught.value.field == "lang"


def test_one_row_per_complaint_of_the_period_with_its_deadline(register) -> None:
    decided, waiting = register
    rows = _sheet("zh-hans")
    assert [r["工单编号"] for r in rows] == [decided.case.number, waiting.case.number]
    row = rows[0]
    assert row["受理时间"] == datetime(2026, 9, 20, 10, 0)
    assert row["监管转办"] == "是" and row["争议金额（元）"] == 300
    assert row["投诉责任人"] == decided.owner.username
    assert row["作出处理决定时间"] == datetime(2026, 9, 22, 11, 0)
    assert row["24小时内办结"] == "否"
    # The regulator's 15 days from Sunday 20 September end on 8 October (National Day).
    assert row["法定处理时限"] == datetime(2026, 10, 9, 0, 0)
    assert row["是否在法定时限内"] == "是" and row["延期次数"] == 0
    assert rows[1]["结案时间"] is None and rows[1]["24小时内办结"] is None
    english = _sheet("en")[0]
    assert english["Statutory deadline met"] == "Yes" and english["Channel"] == "E-mail"


def test_the_customer_is_masked_and_no_cell_is_a_formula(register) -> None:
    rows = _sheet("zh-hans")
    assert rows[0]["客户号（脱敏）"] == "******1234"
    assert rows[1]["客户号（脱敏）"] is None
    every_cell = [str(v) for row in rows for v in row.values() if v is not None]
    assert not any("6200001234" in v or "王小明" in v for v in every_cell)
    assert rows[0]["客户诉求"] == "'" + '=HYPERLINK("http://example.invalid","退款")'
    assert rows[0]["监管转办编号"] == "'+NFRA-2026-0917"
    assert rows[0]["补救措施"] == "'-退还 300 元"
    assert not any(v.startswith(("=", "+", "-", "@")) for v in every_cell)
    assert cell_text("@SUM(A1)") == "'@SUM(A1)" and cell_text("年费") == "年费"
