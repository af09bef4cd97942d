"""The plan's targets as a fresh install has them; administrators change them at
/manage/targets/ (the values, the direction, CSAT's baseline quarter)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

# code, value, direction, one of the plan's own targets
TARGETS = (
    ("csat_change", Decimal("10"), "higher", True),
    ("complaints_closed_24h", Decimal("95"), "higher", True),
    ("follow_up_rate", Decimal("80"), "higher", True),
    ("personalised_coverage", Decimal("70"), "higher", True),
    ("first_response_business_p90", Decimal("240"), "lower", False),
    ("resolution_rate", Decimal("90"), "higher", False),
    ("sla_attainment", Decimal("90"), "higher", False),
)


def targets_seed(target_model: Any, *, using: str = "default") -> None:
    for code, value, direction, in_plan in TARGETS:
        target_model.objects.using(using).get_or_create(
            code=code, defaults={"value": value, "direction": direction, "in_plan": in_plan}
        )
