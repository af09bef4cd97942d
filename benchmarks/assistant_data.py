"""Carve the assistant's training and dev files from ../shared/data (read there, written to
--out; nothing is copied into bankdesk).

    python benchmarks/assistant_data.py --data ../shared/data --out /tmp/assistant-data

writes, all with columns text,category:
- banking77_train.csv / banking77_dev.csv: BANKING77 train.csv split 90/10 per intent
  (bankdesk.assistant.splits.stratified_split, --seed, 0 by default; other seeds carve
  other splits, to see how much a figure owes to one split);
- zh_train.csv: zh_bank_intents train.csv as given; zh_dev.csv: its dev.csv;
- oos_train.csv: CLINC150 train-split out-of-scope queries, plus up to --per-intent queries
  of each CLINC intent outside banking and credit cards (a bank's out-of-scope), leaving out
  intents a bank does answer (exchange rates, direct deposits, pay days);
- oos_dev.csv: CLINC150 val-split out-of-scope queries and the zh dev oos rows;
- zh_dev_inscope.csv: zh dev without its oos rows.
The public test splits of these datasets are not used.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bankdesk.config.settings")

from bankdesk.assistant.splits import stratified_split

BANK_DOMAINS = {"banking", "credit_cards"}
BANK_LIKE_INTENTS = {"exchange_rate", "direct_deposit", "payday", "income", "taxes"}


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _write(path: Path, rows: list[tuple[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "category"])
        writer.writerows(rows)
    print(f"{path}: {len(rows)} rows")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--per-intent", type=int, default=20)
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the BANKING77 train/dev split (default 0)"
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    banking = [(r["text"], r["category"]) for r in _read(args.data / "banking77/train.csv")]
    train, dev = stratified_split(banking, 0.1, seed=args.seed)
    _write(args.out / "banking77_train.csv", train)
    _write(args.out / "banking77_dev.csv", dev)

    zh_train = [(r["text"], r["category"]) for r in _read(args.data / "zh_bank_intents/train.csv")]
    zh_dev = [(r["text"], r["category"]) for r in _read(args.data / "zh_bank_intents/dev.csv")]
    _write(args.out / "zh_train.csv", zh_train)
    _write(args.out / "zh_dev.csv", zh_dev)
    _write(args.out / "zh_dev_inscope.csv", [row for row in zh_dev if row[1] != "oos"])

    clinc = _read(args.data / "clinc150/clinc150_full_train_val.csv")
    rng = random.Random(0)
    oos_train = [
        (r["text"], "oos") for r in clinc if r["split"] == "train" and r["intent"] == "oos"
    ]
    by_intent: dict[str, list[str]] = {}
    for r in clinc:
        if (
            r["split"] == "train"
            and r["intent"] != "oos"
            and r["domain"] not in BANK_DOMAINS
            and r["intent"] not in BANK_LIKE_INTENTS
        ):
            by_intent.setdefault(r["intent"], []).append(r["text"])
    for intent in sorted(by_intent):
        texts = by_intent[intent]
        rng.shuffle(texts)
        oos_train.extend((text, "oos") for text in texts[: args.per_intent])
    _write(args.out / "oos_train.csv", oos_train)
    oos_dev = [(r["text"], "oos") for r in clinc if r["split"] == "val" and r["intent"] == "oos"]
    oos_dev += [row for row in zh_dev if row[1] == "oos"]
    _write(args.out / "oos_dev.csv", oos_dev)


if __name__ == "__main__":
    main()
