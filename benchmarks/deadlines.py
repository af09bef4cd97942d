"""Deadline computations per second on the seeded cn-mainland calendar, as one JSON line.

Run: BANKDESK_HOME=... python benchmarks/deadlines.py [--count N]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bankdesk.config.settings")

import django

django.setup()

from bankdesk.sla.selectors import calendar_get, calendar_spec  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=4)
    args = parser.parse_args()
    calendar = calendar_get(code="cn-mainland")
    if calendar is None:
        sys.exit("cn-mainland is missing: run `bankdesk migrate` (or `bankdesk calendars seed`)")
    loaded = time.perf_counter()
    spec = calendar_spec(calendar=calendar)
    load_seconds = time.perf_counter() - loaded
    rng = random.Random(args.seed)
    zone = ZoneInfo("Asia/Shanghai")
    first = datetime(2025, 1, 1, tzinfo=zone)
    span = (datetime(2028, 1, 1, tzinfo=zone) - first).total_seconds()
    cases = [
        (first + timedelta(seconds=rng.random() * span), rng.randint(1, 20_000))
        for _ in range(args.count)
    ]
    spec.add_business_minutes(first, 1)  # build the first year outside the timing
    began = time.perf_counter()
    for start, minutes in cases:
        spec.add_business_minutes(start, minutes)
    elapsed = time.perf_counter() - began
    print(
        json.dumps(
            {
                "benchmark": "deadlines",
                "calendar": "cn-mainland",
                "computations": args.count,
                "seconds": round(elapsed, 3),
                "per_second": round(args.count / elapsed),
                "calendar_load_seconds": round(load_seconds, 4),
            }
        )
    )


if __name__ == "__main__":
    main()
