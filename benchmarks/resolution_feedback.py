"""What planning the follow-up and the survey adds to resolving a case: CPU per resolution
with the feedback app's receiver connected and without it, on a scratch database.

    BANKDESK_HOME=$(mktemp -d) python benchmarks/resolution_feedback.py [--cases 300]

Each case has a customer with an e-mail address, so every resolution plans a follow-up call
and queues a survey invitation in the outbox (the heaviest path). Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bankdesk.config.settings")

import django

django.setup()

from django.core.management import call_command  # noqa: E402

from bankdesk.customers.services import IdentityInput, customer_create  # noqa: E402
from bankdesk.feedback.receivers import _plan  # noqa: E402
from bankdesk.tickets.choices import CaseStatus  # noqa: E402
from bankdesk.tickets.services import case_create, case_status_change  # noqa: E402
from bankdesk.tickets.signals import case_resolved  # noqa: E402


def _resolutions(count: int, prefix: str) -> list[float]:
    """CPU seconds of each resolution (new → open first, not timed)."""
    spent = []
    for n in range(count):
        customer = customer_create(
            customer_number=f"{prefix}{n:06d}",
            name="测试客户",
            identities=[IdentityInput(kind="email", value=f"{prefix}{n}@example.cn")],
        )
        case = case_create(subject="咨询", channel="email", actor=None, customer=customer)
        case = case_status_change(case=case, status=CaseStatus.OPEN, actor=None)
        started = time.process_time()
        case_status_change(case=case, status=CaseStatus.RESOLVED, actor=None)
        spent.append(time.process_time() - started)
    return spent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=300)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    _resolutions(20, "W")  # warm: the SLA settings, the calendars, the template
    with_feedback = _resolutions(args.cases, "A")
    case_resolved.disconnect(_plan, dispatch_uid="feedback.plan")
    without = _resolutions(args.cases, "B")
    ms = [1000 * s for s in with_feedback]
    base = [1000 * s for s in without]
    print(
        json.dumps(
            {
                "cases": args.cases,
                "cpu_ms_median_with_feedback": round(statistics.median(ms), 2),
                "cpu_ms_median_without": round(statistics.median(base), 2),
                "cpu_ms_p95_with_feedback": round(sorted(ms)[int(0.95 * len(ms))], 2),
                "cpu_ms_p95_without": round(sorted(base)[int(0.95 * len(base))], 2),
            }
        )
    )


if __name__ == "__main__":
    main()
