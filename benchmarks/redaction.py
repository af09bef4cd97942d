"""What masking typed identifiers costs per message, and how often it touches text that holds
none (false positives), on real bank messages.

    python benchmarks/redaction.py --data ../shared/data

Reads the CFPB complaint narratives (long English complaints, their own identifiers already
XXXX-ed by the CFPB), zh_bank_intents (short Chinese chat messages) and BANKING77 (short
English ones). For each corpus, prints one JSON line: messages, mean characters, p50/p99
microseconds of `redact_personal_data` per message, and how many messages it changed, with
up to five examples of what it changed (so a person can judge each one). A last line does the
same for messages that do carry identifiers (the corpora's messages with a phone, an ID
number, an e-mail address and a card number put in), where every message must change.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from bankdesk.lib.redaction import redact_personal_data
from bankdesk.lib.stats import percentile

IDENTIFIERS = [
    "请回电 13812345678",
    "身份证 11010519491231002X",
    "my e-mail is li.lei1990@example.com",
    "card 6222 0212 3456 7891",
    "call me on +852 9123 4567",
    "HKID A123456(7)",
    "座机 0755-2345 6789",
]


def _texts(path: Path, column: str, limit: int) -> list[str]:
    csv.field_size_limit(10_000_000)
    with path.open(encoding="utf-8", newline="") as handle:
        return [row[column] for row, _ in zip(csv.DictReader(handle), range(limit), strict=False)]


def _measure(name: str, texts: list[str]) -> dict[str, object]:
    timings, changed = [], []
    for text in texts:
        started = time.perf_counter()
        masked = redact_personal_data(text)
        timings.append((time.perf_counter() - started) * 1e6)
        if masked != text:
            changed.append(_difference(text, masked))
    return {
        "corpus": name,
        "messages": len(texts),
        "mean_chars": round(sum(map(len, texts)) / max(len(texts), 1)),
        "p50_us": round(percentile(timings, 0.5), 1),
        "p99_us": round(percentile(timings, 0.99), 1),
        "changed": len(changed),
        "examples": changed[:5],
    }


def _difference(text: str, masked: str) -> str:
    """The stretch of the text masking changed, with a little context."""
    start = next(i for i, (a, b) in enumerate(zip(text, masked, strict=False)) if a != b)
    around = slice(max(0, start - 20), start + 30)
    return f"{text[around]!r} -> {masked[around]!r}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--limit", type=int, default=5000, help="messages per corpus")
    args = parser.parse_args()
    corpora = {
        "cfpb_narratives": _texts(
            args.data / "cfpb_complaints" / "narratives_unlabeled_dev.csv", "narrative", args.limit
        ),
        "zh_bank_intents": _texts(args.data / "zh_bank_intents" / "train.csv", "text", args.limit),
        "banking77": _texts(args.data / "banking77" / "train.csv", "text", args.limit),
    }
    for name, texts in corpora.items():
        print(json.dumps(_measure(name, texts), ensure_ascii=False))
    chooser = random.Random(7)
    carrying = [
        f"{text} {chooser.choice(IDENTIFIERS)}"
        for texts in corpora.values()
        for text in texts[:1000]
    ]
    figures = _measure("with_identifiers", carrying)
    figures["examples"] = []
    figures["unchanged"] = figures["messages"] - figures["changed"]  # type: ignore[operator]
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
