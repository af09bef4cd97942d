"""Amount and date extraction measured on NLU++ banking (folds 0–15 in ../shared/data).

    python benchmarks/assistant_entities.py --data ../shared/data [--folds 8-15]

Gold spans are NLU++'s `amount_of_money` and `date`, `date_from`, `date_to` slots (single
days; periods are left out); dates resolve against the
dataset's reference day, 2022-03-15. Prints one JSON line per kind: gold slots, how many
the extractor found with the right value (recall), and how many of everything it extracted
in those examples had a gold counterpart (precision). An amount with no currency word or
sign ("more than 400") is not extracted by design: a bare number is too often a count.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bankdesk.config.settings")

from bankdesk.assistant.entities import extract_entities

REFERENCE_DAY = date(2022, 3, 15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument(
        "--folds", default="0-15", help="folds to read, as FIRST-LAST (default 0-15)"
    )
    args = parser.parse_args()
    first, _, last = args.folds.partition("-")
    examples = []
    for fold in range(int(first), int(last or first) + 1):
        path = args.data / "nlupp_banking" / f"fold{fold}.json"
        examples.extend(json.loads(path.read_text("utf-8")))
    figures = {
        kind: {
            "gold": 0,
            "found": 0,
            "extracted": 0,
            "matched": 0,
            "found_ignoring_year": 0,
            "matched_ignoring_year": 0,
        }
        for kind in ("amount", "date")
    }
    for example in examples:
        slots = example.get("slots") or {}
        gold: dict[str, set[str]] = {"amount": set(), "date": set()}
        money = slots.get("amount_of_money")
        if money and isinstance(money.get("value"), dict):
            gold["amount"].add(str(Decimal(str(money["value"]["amount"])).normalize()))
        when = slots.get("date")
        if (
            when
            and isinstance(when.get("value"), dict)
            and {"day", "month", "year"} <= set(when["value"])
        ):
            value = when["value"]
            gold["date"].add(date(value["year"], value["month"], value["day"]).isoformat())
        extracted: dict[str, set[str]] = {"amount": set(), "date": set()}
        for entity in extract_entities(example["text"], today=REFERENCE_DAY):
            if entity.kind == "amount":
                extracted["amount"].add(str(Decimal(entity.value).normalize()))
            elif entity.kind == "date":
                extracted["date"].add(entity.value)
        for kind in ("amount", "date"):
            counts = figures[kind]
            counts["gold"] += len(gold[kind])
            counts["found"] += len(gold[kind] & extracted[kind])
            counts["extracted"] += len(extracted[kind])
            counts["matched"] += len(extracted[kind] & gold[kind])
            day_month = {g[-5:] for g in gold[kind]} if kind == "date" else gold[kind]
            counts["matched_ignoring_year"] += sum(
                (e[-5:] if kind == "date" else e) in day_month for e in extracted[kind]
            )
            counts["found_ignoring_year"] += len(
                {g[-5:] for g in gold[kind]} & {e[-5:] for e in extracted[kind]}
                if kind == "date"
                else gold[kind] & extracted[kind]
            )
    for kind, counts in figures.items():
        gold, extracted = counts["gold"], counts["extracted"]
        print(
            json.dumps(
                {
                    "entity": kind,
                    "examples": len(examples),
                    "gold": gold,
                    "recall": round(counts["found"] / gold, 4),
                    # NLU++ resolves a date without a year forward, bankdesk backward (customers
                    # report what happened): the same day and month, either year.
                    "recall_ignoring_year": round(counts["found_ignoring_year"] / gold, 4),
                    "extracted": extracted,
                    "precision": round(counts["matched"] / extracted, 4) if extracted else None,
                    "precision_ignoring_year": round(counts["matched_ignoring_year"] / extracted, 4)
                    if extracted
                    else None,
                }
            )
        )


if __name__ == "__main__":
    main()
