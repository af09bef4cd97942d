"""Loading complaints exported from the CFPB's register: each row a complaint case forwarded by
the regulator, with its record filed under the bank's taxonomy, its narrative the customer's
first message; rows the company has answered are history, resolved with no clock left running;
a second load adds nothing; rows that cannot be loaded are reported by line and skipped."""

from __future__ import annotations

import csv
from datetime import date
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from bankdesk.complaints.cfpb import COLUMNS, import_cfpb, issue_code, product_code
from bankdesk.complaints.choices import ComplaintStatus
from bankdesk.complaints.models import Complaint, ComplaintClass
from bankdesk.lib.errors import InvalidInput
from bankdesk.sla.choices import ClockStatus
from bankdesk.sla.models import SlaClock
from bankdesk.tickets.choices import CaseStatus, Direction
from bankdesk.tickets.models import Case, Message

pytestmark = pytest.mark.django_db

LONG_ISSUE = "Problem with a credit reporting company's investigation into an existing problem"
# (Date received, Product, Issue, narrative, Submitted via, response, timely, Complaint ID)
ROWS = [
    ("2019-04-10", "Credit card or prepaid card", "Fees or interest",
     "They charged me a late fee\non a payment made on time.", "Web",
     "Closed with monetary relief", "Yes", "3201"),
    ("2015-06-02", "Credit card", "Fees or interest", "", "Phone",
     "Closed with explanation", "No", "3202"),
    ("", "Mortgage", "Struggling to pay mortgage", "no date here", "Web",
     "In progress", "Yes", "3203"),
    ("2023-04-20", "Crypto lending", "Other", "", "Web", "In progress", "Yes", "3204"),
    ("2023-04-21", "Credit reporting or other personal consumer reports", LONG_ISSUE,
     "XXXX reported an account that is not mine.", "Postal mail", "In progress", "Yes",
     "3205"),
    ("2019-08-01", "Credit reporting, credit repair services, or other personal consumer "
     "reports", "Incorrect information on your report", "", "Referral",
     "Closed with explanation", "Yes", "3206"),
    ("2019-08-02", "Checking or savings account", "Managing an account", "", "Fax",
     "Closed with explanation", "Yes", "3201"),
    ("2019-08-03", "Mortgage", "Struggling to pay mortgage", "", "Web",
     "Closed with explanation", "Yes", "3207"),
]  # fmt: skip


def _write(path: Path, rows: list[tuple[str, ...]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=[*COLUMNS, "sample_source"])
        writer.writeheader()
        for received, product, issue, narrative, via, response, timely, reference in rows:
            writer.writerow(
                {
                    "Date received": received,
                    "Product": product,
                    "Issue": issue,
                    "Consumer complaint narrative": narrative,
                    "Submitted via": via,
                    "Company response to consumer": response,
                    "Timely response?": timely,
                    "Complaint ID": reference,
                    "sample_source": "tests",
                }
            )
    return path


@pytest.fixture
def export(tmp_path: Path) -> Path:
    return _write(tmp_path / "complaints.csv", ROWS)


def test_rows_become_complaints_filed_under_the_taxonomy(export):
    result = import_cfpb(export, actor=None)
    assert (result.added, result.already_there) == (5, 0)

    card = Complaint.objects.get(source_reference="3201")
    assert card.product.code == "product-cards-credit"
    assert card.issue.code == "issue-cfpb-fees-or-interest"
    assert card.issue.kind == "issue" and card.issue.name_en == "Fees or interest"
    assert timezone.localtime(card.received_at).date() == date(2019, 4, 10)
    assert (card.company_response, card.timely_response) == ("Closed with monetary relief", True)
    assert card.channel == "web_chat" and card.case.is_complaint
    first = Message.objects.get(case=card.case)
    assert first.direction == Direction.INBOUND
    assert first.text == "They charged me a late fee\non a payment made on time."

    # The old and new names of one product go to one node.
    old_name = Complaint.objects.get(source_reference="3202")
    assert old_name.product == card.product and old_name.timely_response is False
    assert old_name.channel == "phone"
    assert not Message.objects.filter(case=old_name.case).exists()  # no narrative published
    reporting = Complaint.objects.get(source_reference="3205").product
    assert Complaint.objects.get(source_reference="3206").product == reporting
    assert reporting.code == "product-cfpb-credit-reporting" and reporting.kind == "product"
    assert Complaint.objects.get(source_reference="3207").product.code == "product-loans-mortgage"
    long_issue = Complaint.objects.get(source_reference="3205").issue
    assert long_issue.code == issue_code(LONG_ISSUE) and len(long_issue.code) <= 60


def test_they_are_forwarded_by_the_regulator(export):
    import_cfpb(export, actor=None)
    for record in Complaint.objects.exclude(source_reference=""):
        assert record.regulator_forwarded and record.opened_on == "regulator"
        assert record.regulator_reference == f"CFPB-{record.source_reference}"


def test_answered_rows_are_history_and_in_progress_ones_stay_open(export):
    result = import_cfpb(export, actor=None)
    assert (result.resolved, result.left_open) == (4, 1)

    for reference in ("3201", "3202", "3206", "3207"):  # the company has answered
        record = Complaint.objects.select_related("case").get(source_reference=reference)
        assert record.case.status == CaseStatus.RESOLVED
        assert record.status == ComplaintStatus.CLOSED
        # The export never says when the company answered: no date is made up.
        assert record.decided_at is None and record.closed_at is None
        assert record.company_response.startswith("Closed with")
        clocks = SlaClock.objects.filter(case=record.case)
        assert clocks.exists()  # the regulator's statutory policy started them…
        assert not clocks.filter(status=ClockStatus.RUNNING).exists()  # …resolving met them
        assert record.case.sla_due_at is None
    assert Complaint.objects.get(source_reference="3202").timely_response is False

    waiting = Complaint.objects.select_related("case").get(source_reference="3205")
    assert waiting.company_response == "In progress"
    assert waiting.case.status == CaseStatus.NEW and waiting.status == ComplaintStatus.RECEIVED
    assert SlaClock.objects.filter(case=waiting.case, status=ClockStatus.RUNNING).exists()


def test_bad_rows_are_reported_by_line_and_skipped(export):
    result = import_cfpb(export, actor=None)
    # Line 1 is the header; the first row's narrative spans lines 2 and 3.
    assert [(problem.line, problem.reason.split(" ")[0]) for problem in result.problems] == [
        (5, "no"),
        (6, "unknown"),
        (9, "Complaint"),
    ]
    assert "Crypto lending" in result.problems[1].reason
    assert not Complaint.objects.filter(source_reference__in=["3203", "3204"]).exists()


def test_a_second_import_adds_nothing(export):
    import_cfpb(export, actor=None)
    cases = Case.objects.count()
    nodes = ComplaintClass.objects.count()
    again = import_cfpb(export, actor=None)
    assert (again.added, again.already_there) == (0, 5)
    assert Case.objects.count() == cases and ComplaintClass.objects.count() == nodes
    assert Complaint.objects.filter(source_reference="3201").count() == 1


def test_the_mapping_knows_every_name_a_product_had():
    assert product_code("Credit card") == product_code("Credit card or prepaid card")
    assert product_code("Bank account or service") == "product-deposits-current"
    assert product_code("Money transfers") == "product-payments-transfer"
    assert product_code("  mortgage ") == "product-loans-mortgage"
    assert product_code("Crypto lending") is None
    assert issue_code("Fees or interest") == issue_code("  Fees or  interest ")


def test_the_command_reports_what_it_did(export):
    out, err = StringIO(), StringIO()
    call_command("complaints", "import-cfpb", str(export), stdout=out, stderr=err)
    assert "5 complaints added, 0 already there, 3 rows skipped" in out.getvalue()
    assert f"{export} line 6: unknown product 'Crypto lending'" in err.getvalue()


def test_a_file_without_the_columns_is_refused(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("text,category\nhello,greeting\n", encoding="utf-8")
    with pytest.raises(InvalidInput):
        import_cfpb(path, actor=None)
    assert not Complaint.objects.exists()
