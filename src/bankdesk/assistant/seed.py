"""What the assistant knows on a fresh install: the intents (BANKING77's 77, `complaint`, and
the credit-card matters a Chinese bank's customers ask most that BANKING77 lacks: annual fee,
credit limit, repayment, instalments) with their titles, and example sentences in English and
Chinese written for bankdesk."""

from __future__ import annotations

import csv
import io
import json
from importlib import resources

from django.db import transaction

from bankdesk.assistant.choices import ExampleSource
from bankdesk.assistant.models import Intent
from bankdesk.assistant.training import ImportResult, examples_import

# Always handed to a person: the regulated complaint process, and matters of fraud where
# a person must act at once.
RISK_INTENTS = frozenset({"complaint", "compromised_card", "lost_or_stolen_card"})
SEED_FILES = ("examples_en.csv", "examples_zh.csv")


def _seed_text(package: str, name: str) -> str:
    return resources.files(package).joinpath("data", name).read_text("utf-8")


def seed_examples() -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for name in SEED_FILES:
        reader = csv.DictReader(io.StringIO(_seed_text("bankdesk.assistant", name)))
        rows.extend((row["text"], row["category"]) for row in reader)
    return rows


@transaction.atomic
def assistant_seed() -> ImportResult:
    """Create the shipped intents (titles from the knowledge seed) and store the shipped
    examples; what admins changed since is kept."""
    faq = json.loads(_seed_text("bankdesk.knowledge", "faq.json"))
    existing = set(Intent.objects.values_list("code", flat=True))
    Intent.objects.bulk_create(
        Intent(
            code=entry["intent"],
            title_en=entry["title_en"],
            title_zh=entry["title_zh"],
            is_risk=entry["intent"] in RISK_INTENTS,
        )
        for entry in faq
        if entry["intent"] not in existing
    )
    return examples_import(seed_examples(), source=ExampleSource.SEED, actor=None)
