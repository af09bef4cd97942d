"""The intake classifier: trained on narratives written for these tests (English and
Chinese), it suggests a product and issue for a complaint opened through the services; an
officer's confirmation or correction is kept to learn from; `evaluate` prints one JSON line;
with no model nothing is suggested and nothing breaks."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from bankdesk.complaints import classifier
from bankdesk.complaints.cfpb import COLUMNS
from bankdesk.complaints.choices import ExampleSource
from bankdesk.complaints.classifier import Example, model_path, train
from bankdesk.complaints.models import ClassificationExample, Complaint, ComplaintClass
from bankdesk.complaints.services import complaint_classify
from bankdesk.staff.choices import Role
from bankdesk.tickets.services import case_create

pytestmark = pytest.mark.django_db

FEES = [
    "I was charged an annual fee twice on my credit card",
    "the credit card statement shows a late fee I never owed",
    "my card was billed an overlimit fee without notice",
    "interest on my credit card balance was charged at the wrong rate",
    "the credit card company charged a foreign transaction fee twice",
    "信用卡年费被重复扣收",
    "信用卡账单多收了滞纳金",
    "信用卡分期手续费没有告知就收取",
]
MORTGAGE = [
    "my mortgage payment was applied late and I was charged a penalty",
    "the mortgage servicer lost my escrow payment for property tax",
    "my home loan interest rate was raised without any notice",
    "the bank refused to refinance my mortgage after approving it",
    "my mortgage escrow account was short and my payment doubled",
    "房贷利率上调没有通知我",
    "住房贷款提前还款被收取违约金",
    "房贷月供扣款日期被银行擅自更改",
]
TRANSFER = [
    "my wire transfer never reached the recipient after a week",
    "money I sent abroad was delayed and the fee was not refunded",
    "the transfer to my daughter failed but the money left my account",
    "an international remittance was returned and I lost the exchange",
    "my payment to a friend is stuck pending for days",
    "转账汇款一直没有到账",
    "跨行转账失败但是钱已经扣了",
    "汇款被退回还扣了手续费",
]


def _examples() -> list[Example]:
    return (
        [Example(text, "product-cards-credit", "issue-fees-unexpected") for text in FEES]
        + [Example(text, "product-loans-mortgage", "issue-fees-interest") for text in MORTGAGE]
        + [
            Example(text, "product-payments-transfer", "issue-transactions-failed")
            for text in TRANSFER
        ]
    )


@pytest.fixture
def trained_model(settings: Any, tmp_path: Path) -> Iterator[Path]:
    """A model trained on the narratives above, in service from a home of this test's own."""
    settings.BANKDESK_HOME = tmp_path
    train(_examples()).save(model_path())
    yield model_path()
    classifier._cached = None


@pytest.fixture
def officer(make_staff: Callable[..., Any], complaint_team: Any) -> Any:
    return make_staff("officer", Role.COMPLAINT_OFFICER, teams=[complaint_team])


def _open(text: str, categories: Any, capture: Any) -> Complaint:
    with capture(execute=True):
        case = case_create(
            subject="投诉",
            channel="phone",
            category=categories["complaint_fees"],
            text=text,
            actor=None,
        )
    return Complaint.objects.get(case=case)


def test_a_new_complaint_gets_a_suggestion_from_its_narrative(
    trained_model, categories, django_capture_on_commit_callbacks
):
    english = _open(
        "they charged me an annual fee on my credit card twice this year",
        categories,
        django_capture_on_commit_callbacks,
    )
    chinese = _open(
        "我的跨行转账失败了，钱没有到账", categories, django_capture_on_commit_callbacks
    )
    assert english.suggested_product.code == "product-cards-credit"
    assert english.suggested_issue.code == "issue-fees-unexpected"
    assert 0 < english.suggestion_score <= 1
    assert chinese.suggested_product.code == "product-payments-transfer"
    assert english.product is None  # a suggestion, not a classification


def test_with_no_model_nothing_is_suggested(
    settings, tmp_path, categories, django_capture_on_commit_callbacks
):
    settings.BANKDESK_HOME = tmp_path
    complaint = _open("信用卡年费被重复扣收", categories, django_capture_on_commit_callbacks)
    assert complaint.suggested_product is None and complaint.suggestion_score is None


def test_an_unreadable_model_suggests_nothing(
    settings, tmp_path, categories, django_capture_on_commit_callbacks
):
    settings.BANKDESK_HOME = tmp_path
    model_path().parent.mkdir(parents=True)
    model_path().write_bytes(b"not a model")
    complaint = _open("信用卡年费被重复扣收", categories, django_capture_on_commit_callbacks)
    assert complaint.suggested_product is None
    classifier._cached = None


def test_the_officers_correction_and_confirmation_are_kept_as_examples(
    trained_model, categories, officer, django_capture_on_commit_callbacks
):
    complaint = _open(
        "my mortgage payment was taken twice this month",
        categories,
        django_capture_on_commit_callbacks,
    )
    assert complaint.suggested_product.code == "product-loans-mortgage"
    cards = ComplaintClass.objects.get(code="product-cards-credit")
    fees = ComplaintClass.objects.get(code="issue-fees-unexpected")
    complaint_classify(complaint=complaint, product=cards, issue=fees, cause=None, actor=officer)
    example = ClassificationExample.objects.get(complaint=complaint)
    assert (example.source, example.product, example.issue) == (
        ExampleSource.CORRECTION,
        cards,
        fees,
    )
    assert example.text == "my mortgage payment was taken twice this month"

    # Classified again as suggested: the one example becomes a confirmation.
    complaint.refresh_from_db()
    complaint_classify(
        complaint=complaint,
        product=complaint.suggested_product,
        issue=complaint.suggested_issue,
        cause=None,
        actor=officer,
    )
    example = ClassificationExample.objects.get(complaint=complaint)
    assert example.source == ExampleSource.CONFIRMATION
    assert example.product.code == "product-loans-mortgage"


def test_no_example_without_a_suggestion(categories, officer, settings, tmp_path):
    settings.BANKDESK_HOME = tmp_path
    case = case_create(
        subject="投诉",
        channel="phone",
        category=categories["complaint_fees"],
        text="信用卡年费被重复扣收",
        actor=None,
    )
    complaint = Complaint.objects.get(case=case)
    cards = ComplaintClass.objects.get(code="product-cards-credit")
    complaint_classify(complaint=complaint, product=cards, issue=None, cause=None, actor=officer)
    assert not ClassificationExample.objects.exists()


def test_a_retrained_model_serves_without_a_restart(
    trained_model, categories, django_capture_on_commit_callbacks
):
    first = classifier.current_classifier()
    assert first is not None and classifier.current_classifier() is first  # cached
    only_two = [e for e in _examples() if e.product != "product-payments-transfer"]
    train(only_two).save(model_path())
    second = classifier.current_classifier()
    assert second is not first and second is not None
    assert "product-payments-transfer" not in second.products


def _cfpb_csv(path: Path, rows: list[tuple[str, str, str, str]]) -> Path:
    """A CFPB-format file: (Complaint ID, Product, Issue, narrative) per row."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        for reference, product, issue, narrative in rows:
            writer.writerow(
                {
                    "Date received": "2023-04-10",
                    "Product": product,
                    "Issue": issue,
                    "Consumer complaint narrative": narrative,
                    "Submitted via": "Web",
                    "Complaint ID": reference,
                    "Timely response?": "Yes",
                }
            )
    return path


def test_train_and_evaluate_commands(settings, tmp_path):
    settings.BANKDESK_HOME = tmp_path
    card, mortgage = "Credit card or prepaid card", "Mortgage"
    rows = [(str(100 + i), card, "Fees or interest", text) for i, text in enumerate(FEES)]
    rows += [
        (str(200 + i), mortgage, "Struggling to pay mortgage", text)
        for i, text in enumerate(MORTGAGE)
    ]
    data = _cfpb_csv(tmp_path / "train.csv", rows)
    out = StringIO()
    call_command("complaints", "train", "--data", str(data), stdout=out)
    assert json.loads(out.getvalue())["products"] == 2
    assert ComplaintClass.objects.filter(code="issue-cfpb-struggling-to-pay-mortgage").exists()

    held = _cfpb_csv(
        tmp_path / "held.csv",
        [
            ("900", card, "Fees or interest", "a late fee on my credit card statement"),
            ("901", mortgage, "Struggling to pay mortgage", "my mortgage escrow payment"),
        ],
    )
    out = StringIO()
    call_command("complaints", "evaluate", "--file", str(held), stdout=out)
    lines = out.getvalue().strip().splitlines()
    assert len(lines) == 1
    figures = json.loads(lines[0])
    assert set(figures) == {
        "n",
        "product_accuracy",
        "product_macro_f1",
        "issue_accuracy",
        "issue_macro_f1",
    }
    assert figures["n"] == 2
    classifier._cached = None
