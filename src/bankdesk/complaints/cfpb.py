"""Complaints exported from the US CFPB's Consumer Complaint Database, read and loaded.

The export's 18 standard columns are read (others, such as a sample's `sample_source`, are
ignored). Its products map onto the bank's taxonomy where they fit — a credit card is a credit
card — under every name the CFPB has used for them (it renamed several over the years); the
products the bank's tree has no place for (credit reporting, debt collection, student loans…)
become nodes of their own with stable `product-cfpb-…` codes. Each CFPB issue becomes an issue
node `issue-cfpb-<slug of its text>`, so a second load of the same issue finds the same node.
Nodes are added once and never changed after: the bank may rename or move them.

`import_cfpb` loads each row as a complaint case opened through the tickets services (its
narrative, when published, as the customer's first message), forwarded by a regulator (the
CFPB sends complaints on to the company: `regulator_reference` `CFPB-<Complaint ID>`), with the
complaint record's product, issue, date received, the company's response and whether it was
timely, and the CFPB's Complaint ID as `source_reference`: loading a file again skips what is
already there. A row is history: when the company has already given its final response
(anything but "In progress" or nothing), the case is taken to resolved through the tickets
services, which meets its clocks, and the record is closed; the export says when the CFPB
received the complaint and sent it on, never when the company answered, so the record's
`decided_at` and `closed_at` stay empty rather than made up. A row "In progress" stays open.
A row that cannot be loaded (no date, a product the CFPB never had) is reported with its line
and skipped.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from bankdesk.complaints.choices import ClassKind, ComplaintStatus
from bankdesk.complaints.classifier import Example
from bankdesk.complaints.models import Complaint, ComplaintClass
from bankdesk.complaints.taxonomy import TAXONOMY
from bankdesk.customers.models import Customer
from bankdesk.customers.services import customer_create
from bankdesk.lib.channels import Channel
from bankdesk.lib.errors import BankdeskError, InvalidInput
from bankdesk.lib.languages import Language
from bankdesk.lib.text import one_line
from bankdesk.security.audit import audit_record
from bankdesk.staff.models import User
from bankdesk.tickets.choices import CaseStatus
from bankdesk.tickets.services import case_create, case_status_change

Progress = Callable[[str, int, int], None]

COLUMNS = (
    "Date received", "Product", "Sub-product", "Issue", "Sub-issue",
    "Consumer complaint narrative", "Company public response", "Company", "State", "ZIP code",
    "Tags", "Consumer consent provided?", "Submitted via", "Date sent to company",
    "Company response to consumer", "Timely response?", "Consumer disputed?", "Complaint ID",
)  # fmt: skip
REQUIRED_COLUMNS = ("Date received", "Product", "Issue", "Complaint ID")

# Every product name the CFPB has used, lower case, to the taxonomy node (without `product-`).
PRODUCTS: dict[str, str] = {
    "credit card": "cards-credit",
    "credit card or prepaid card": "cards-credit",
    "prepaid card": "cards",
    "checking or savings account": "deposits-current",
    "bank account or service": "deposits-current",
    "mortgage": "loans-mortgage",
    "vehicle loan or lease": "loans-consumer",
    "consumer loan": "loans-consumer",
    "payday loan": "loans-consumer",
    "payday loan, title loan, or personal loan": "loans-consumer",
    "payday loan, title loan, personal loan, or advance loan": "loans-consumer",
    "student loan": "cfpb-student-loan",
    "money transfers": "payments-transfer",
    "virtual currency": "payments-transfer",
    "money transfer, virtual currency, or money service": "payments-transfer",
    "credit reporting": "cfpb-credit-reporting",
    "credit reporting, credit repair services, or other personal consumer reports": (
        "cfpb-credit-reporting"
    ),
    "credit reporting or other personal consumer reports": "cfpb-credit-reporting",
    "debt collection": "cfpb-debt-collection",
    "debt or credit management": "cfpb-debt-management",
    "other financial service": "cfpb-other-service",
}
# The products the bank's tree had no place for: (中文, English, parent without `product-`).
CFPB_PRODUCTS: dict[str, tuple[str, str, str]] = {
    "cfpb-credit-reporting": ("征信与信用报告", "Credit reporting", ""),
    "cfpb-debt-collection": ("债务催收", "Debt collection", ""),
    "cfpb-student-loan": ("助学贷款", "Student loans", "loans"),
    "cfpb-debt-management": ("债务与信用管理服务", "Debt or credit management", ""),
    "cfpb-other-service": ("其他金融服务", "Other financial services", ""),
}
# How the consumer reached the CFPB, as the bank's channel closest to it.
CHANNELS: dict[str, str] = {
    "web": Channel.WEB_CHAT,
    "web referral": Channel.WEB_CHAT,
    "referral": Channel.API,
    "phone": Channel.PHONE,
    "email": Channel.EMAIL,
    "fax": Channel.EMAIL,
    "postal mail": Channel.BRANCH,
}
CODE_MAX = 60
PLACEHOLDER_CUSTOMER = "CFPB-CONSUMER"
REPORT_EVERY = 50
# "Company response to consumer" while the company has not answered yet; any other value (but
# nothing) is its final response.
PENDING_RESPONSES = frozenset({"", "in progress"})


def product_code(name: str) -> str | None:
    """The taxonomy code of a CFPB product name, None for a name the CFPB never used."""
    code = PRODUCTS.get(" ".join(name.split()).lower())
    return f"product-{code}" if code else None


def issue_code(text: str) -> str:
    """A stable code for a CFPB issue: its slug, shortened with a digest when too long."""
    slug = slugify(" ".join(text.split()).lower()) or "issue"
    code = f"issue-cfpb-{slug}"
    if len(code) > CODE_MAX:
        digest = hashlib.sha1(text.strip().lower().encode(), usedforsecurity=False).hexdigest()
        code = f"{code[: CODE_MAX - 7].rstrip('-')}-{digest[:6]}"
    return code


@dataclass(frozen=True)
class CfpbRow:
    line: int
    reference: str
    received: date
    product: str  # the CFPB's name
    product_code: str
    issue: str  # the CFPB's text, "" when none
    narrative: str
    channel: str
    company_response: str
    timely_response: bool | None

    @property
    def issue_code(self) -> str:
        return issue_code(self.issue) if self.issue else ""

    @property
    def is_answered(self) -> bool:
        """The company has given its final response: the complaint is over."""
        return self.company_response.lower() not in PENDING_RESPONSES


@dataclass(frozen=True)
class Problem:
    line: int
    reason: str


@dataclass
class CfpbFile:
    rows: list[CfpbRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _date(value: str) -> date | None:
    value = value.strip()
    for pattern in ("%Y-%m-%d", "%m/%d/%Y", "%Y/%m/%d"):
        try:
            return datetime.strptime(value, pattern).date()  # a calendar day, no zone
        except ValueError:
            continue
    return None


def _row(line: int, raw: dict[str, str | None]) -> CfpbRow | Problem:
    def value(column: str) -> str:
        return (raw.get(column) or "").strip()

    received = _date(value("Date received"))
    if received is None:
        return Problem(line, f"no usable Date received ({value('Date received')!r})")
    code = product_code(value("Product"))
    if code is None:
        return Problem(line, f"unknown product {value('Product')!r}")
    reference = value("Complaint ID")
    if not reference or len(reference) > 40:
        return Problem(line, "no Complaint ID")
    timely = {"yes": True, "no": False}.get(value("Timely response?").lower())
    return CfpbRow(
        line=line,
        reference=reference,
        received=received,
        product=value("Product"),
        product_code=code,
        issue=one_line(value("Issue"), 120),
        narrative=value("Consumer complaint narrative"),
        channel=CHANNELS.get(value("Submitted via").lower(), Channel.WEB_CHAT),
        company_response=one_line(value("Company response to consumer"), 120),
        timely_response=timely,
    )


def read_cfpb(path: Path) -> CfpbFile:
    """The rows of a CFPB-format CSV, and the rows that cannot be used with their line numbers
    (the line a record starts on: a narrative may span several)."""
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise InvalidInput(f"{path}: {exc.strerror}", field="file") from exc
    result = CfpbFile()
    seen: set[str] = set()
    with handle:
        reader = csv.DictReader(handle)
        missing = [name for name in REQUIRED_COLUMNS if name not in (reader.fieldnames or [])]
        if missing:
            raise InvalidInput(f"{path}: the header lacks {', '.join(missing)}", field="file")
        start = reader.line_num + 1
        try:
            for raw in reader:
                row = _row(start, raw)
                if isinstance(row, CfpbRow) and row.reference in seen:
                    row = Problem(start, f"Complaint ID {row.reference} repeated")
                if isinstance(row, Problem):
                    result.problems.append(row)
                else:
                    seen.add(row.reference)
                    result.rows.append(row)
                start = reader.line_num + 1
        except (csv.Error, UnicodeDecodeError) as exc:
            raise InvalidInput(f"{path} line {start}: {exc}", field="file") from exc
    return result


def cfpb_examples(rows: Iterable[CfpbRow]) -> list[Example]:
    """The rows with a narrative, as the classifier learns from them."""
    return [
        Example(row.narrative, row.product_code, row.issue_code) for row in rows if row.narrative
    ]


def taxonomy_for_rows(rows: Iterable[CfpbRow]) -> dict[str, ComplaintClass]:
    """The product and issue nodes these rows are filed under, by code, adding those missing."""
    rows = list(rows)
    wanted = {row.product_code for row in rows} | {row.issue_code for row in rows if row.issue}
    nodes = {node.code: node for node in ComplaintClass.objects.filter(code__in=wanted)}
    bank = {f"{kind}-{code}": (name, name_en, parent) for kind, code, name, name_en, parent
            in TAXONOMY if kind == ClassKind.PRODUCT}  # fmt: skip
    bank.update({f"product-{code}": value for code, value in CFPB_PRODUCTS.items()})
    for code in sorted(code for code in wanted if code.startswith("product-")):
        if code not in nodes:
            name, name_en, parent = bank[code]
            nodes[code] = _node_add(ClassKind.PRODUCT, code, name, name_en, parent)
    for row in rows:
        if row.issue and row.issue_code not in nodes:
            nodes[row.issue_code] = _node_add(ClassKind.ISSUE, row.issue_code, "", row.issue, "")
    return nodes


def _node_add(kind: str, code: str, name: str, name_en: str, parent: str) -> ComplaintClass:
    """Add a node (its Chinese name the English one until the bank names it)."""
    parent_node = None
    if parent:
        parent_node = ComplaintClass.objects.filter(code=f"{kind}-{parent}").first()
    node, _ = ComplaintClass.objects.get_or_create(
        code=code,
        defaults={"kind": kind, "name": name or name_en, "name_en": name_en,
                  "parent": parent_node},
    )  # fmt: skip
    return node


@dataclass(frozen=True)
class ImportResult:
    added: int
    already_there: int
    problems: list[Problem]
    resolved: int = 0  # of those added, answered by the company: resolved and closed
    left_open: int = 0  # of those added, still "In progress" (or no response recorded)


def _placeholder_customer(actor: User | None) -> Customer:
    """The one customer every CFPB complaint is filed under: the export names nobody."""
    customer = Customer.objects.filter(customer_number=PLACEHOLDER_CUSTOMER).first()
    if customer is None:
        customer = customer_create(
            customer_number=PLACEHOLDER_CUSTOMER,
            name="CFPB 投诉人（匿名）",
            preferred_language=Language.EN,
            is_provisional=True,
            actor=actor,
        )
    return customer


def _subject(row: CfpbRow) -> str:
    return one_line(f"CFPB {row.reference}: {row.product} — {row.issue or '-'}", 200)


@transaction.atomic
def _row_load(
    row: CfpbRow, nodes: dict[str, ComplaintClass], customer: Customer, actor: User | None
) -> None:
    # A calendar day: noon in the bank's zone, so the register shows the day the CFPB gave.
    received = datetime.combine(row.received, time(12), tzinfo=timezone.get_default_timezone())
    case = case_create(
        subject=_subject(row),
        channel=row.channel,
        actor=actor,
        customer=customer,
        language=Language.EN,
        text=row.narrative,
        created_at=received,
        is_complaint=True,
        complaint_on="regulator",
    )
    if row.is_answered:
        # Answered long ago: resolving meets the case's clocks (new → open → resolved, as the
        # case lifecycle goes), so it never waits in a queue as overdue.
        reason = one_line(f"CFPB: {row.company_response}", 200)
        case = case_status_change(case=case, status=CaseStatus.OPEN, actor=actor, reason=reason)
        case_status_change(
            case=case, status=CaseStatus.RESOLVED, actor=actor, reason=reason, history=True
        )
    # Written on the record as the CFPB recorded it (history, not steps taken now).
    Complaint.objects.filter(case=case).update(
        status=ComplaintStatus.CLOSED if row.is_answered else ComplaintStatus.RECEIVED,
        product=nodes[row.product_code],
        issue=nodes.get(row.issue_code),
        received_at=received,
        regulator_forwarded=True,
        regulator_reference=f"CFPB-{row.reference}",
        company_response=row.company_response,
        timely_response=row.timely_response,
        source_reference=row.reference,
    )


def import_cfpb(
    path: Path, *, actor: User | None, progress: Progress | None = None
) -> ImportResult:
    """Load a CFPB-format file's complaints; rows loaded before (by Complaint ID) are skipped,
    rows that cannot be loaded are reported with their line and skipped."""
    read = read_cfpb(path)
    problems = list(read.problems)
    with transaction.atomic():
        nodes = taxonomy_for_rows(read.rows)
        customer = _placeholder_customer(actor)
    references = [row.reference for row in read.rows]
    loaded: set[str] = set()
    for start in range(0, len(references), 500):
        loaded.update(
            Complaint.objects.filter(
                source_reference__in=references[start : start + 500]
            ).values_list("source_reference", flat=True)
        )
    added = already_there = resolved = 0
    for done, row in enumerate(read.rows):
        if progress is not None and done % REPORT_EVERY == 0:
            progress("import", done, len(read.rows))
        if row.reference in loaded:
            already_there += 1
            continue
        try:
            _row_load(row, nodes, customer, actor)
        except IntegrityError:  # loaded meanwhile by another import of the same file
            already_there += 1
            continue
        except BankdeskError as exc:
            problems.append(Problem(row.line, exc.message))
            continue
        added += 1
        resolved += row.is_answered
    if progress is not None:
        progress("import", len(read.rows), len(read.rows))
    if added:
        with transaction.atomic():
            audit_record(
                actor=actor,
                action="complaints.cfpb_import",
                object_type="complaints.complaint",
                reason=f"{path.name}: {added} added ({resolved} resolved, "
                f"{added - resolved} open), {already_there} already there, "
                f"{len(problems)} rows skipped",
            )
    problems.sort(key=lambda problem: problem.line)
    return ImportResult(added, already_there, problems, resolved, added - resolved)
