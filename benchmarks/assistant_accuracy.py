"""Accuracy of the model in service with and without out-of-scope rejection, per file.

    BANKDESK_HOME=... python benchmarks/assistant_accuracy.py /tmp/assistant-data/*_dev*.csv

`bankdesk assistant evaluate` gives the product's figures (rejection on, as replies use
it); this adds what rejection costs: in-scope accuracy when the top intent is always taken.
One JSON line per file.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bankdesk.config.settings")

import django

django.setup()

from bankdesk.assistant.choices import OUT_OF_SCOPE  # noqa: E402
from bankdesk.assistant.engine import current_model  # noqa: E402
from bankdesk.assistant.training import read_labelled_csv  # noqa: E402


def main() -> None:
    serving = current_model()
    if serving is None:
        sys.exit("no model in service: run bankdesk assistant train first")
    version, model = serving
    for path in map(Path, sys.argv[1:]):
        rows = read_labelled_csv(path)
        predictions = model.predict_many([text for text, _ in rows])
        in_scope = [
            (p, c) for p, (_, c) in zip(predictions, rows, strict=True) if c != OUT_OF_SCOPE
        ]
        oos = [p for p, (_, c) in zip(predictions, rows, strict=True) if c == OUT_OF_SCOPE]
        top = sum(p.ranked[0][0].lower() == c.lower() for p, c in in_scope)
        kept = sum(p.ranked[0][0].lower() == c.lower() and not p.out_of_scope for p, c in in_scope)
        print(
            json.dumps(
                {
                    "file": path.name,
                    "model_version": version,
                    "in_scope": len(in_scope),
                    "accuracy": round(kept / len(in_scope), 4) if in_scope else None,
                    "accuracy_without_rejection": round(top / len(in_scope), 4)
                    if in_scope
                    else None,
                    "oos": len(oos),
                    "oos_recall": round(sum(p.out_of_scope for p in oos) / len(oos), 4)
                    if oos
                    else None,
                }
            )
        )


if __name__ == "__main__":
    main()
