"""Assistant reply latency on one core: the model alone, and the whole reply service.

Run after training (see the closing note), with the same BANKDESK_HOME:
    BANKDESK_HOME=... python benchmarks/assistant_latency.py --file /tmp/assistant-data/zh_dev.csv \
        --file /tmp/assistant-data/banking77_dev.csv

The process is pinned to one CPU and numpy's thread pools to one thread before anything
loads. Prints one JSON line: predict() p50/p99 over every text (the model in service, as
replies load it) and assistant_reply() p50/p99 (understanding, policy, knowledge look-up and
the stored turns, in one transaction on the configured database) over the first --replies,
overall and per action (a hand-off also opens a case).
"""

from __future__ import annotations

import os

for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[name] = "1"
if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bankdesk.config.settings")

import django  # noqa: E402

django.setup()

from measure import percentile  # noqa: E402

from bankdesk.assistant.engine import current_model  # noqa: E402
from bankdesk.assistant.services import assistant_reply  # noqa: E402
from bankdesk.assistant.training import read_labelled_csv  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--file", action="append", type=Path, required=True)
    parser.add_argument("--replies", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args()
    texts = [text for path in args.file for text, _ in read_labelled_csv(path)]
    serving = current_model()
    if serving is None:
        sys.exit("no model in service: run bankdesk assistant train first")
    version, model = serving
    for text in texts[: args.warmup]:
        model.predict(text)
    predict_ms = []
    for text in texts:
        began = time.perf_counter()
        model.predict(text)
        predict_ms.append((time.perf_counter() - began) * 1000)
    reply_ms: list[float] = []
    by_action: dict[str, list[float]] = {}
    for text in texts[: args.replies]:
        began = time.perf_counter()
        reply = assistant_reply(text=text, actor=None)
        elapsed = (time.perf_counter() - began) * 1000
        reply_ms.append(elapsed)
        by_action.setdefault(reply.action, []).append(elapsed)
    print(
        json.dumps(
            {
                "benchmark": "assistant_latency",
                "model_version": version,
                "cpus": sorted(os.sched_getaffinity(0))
                if hasattr(os, "sched_getaffinity")
                else None,
                "texts": len(texts),
                "predict_p50_ms": round(percentile(predict_ms, 0.5), 3),
                "predict_p99_ms": round(percentile(predict_ms, 0.99), 3),
                "predict_max_ms": round(max(predict_ms), 3),
                "replies": len(reply_ms),
                "reply_p50_ms": round(percentile(reply_ms, 0.5), 3),
                "reply_p99_ms": round(percentile(reply_ms, 0.99), 3),
                # A hand-off also opens a case (routing, SLA clocks, audit): its own figures.
                "by_action": {
                    action: {
                        "n": len(values),
                        "p50_ms": round(percentile(values, 0.5), 3),
                        "p99_ms": round(percentile(values, 0.99), 3),
                    }
                    for action, values in sorted(by_action.items())
                },
            }
        )
    )


if __name__ == "__main__":
    main()
