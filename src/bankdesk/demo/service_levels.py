"""The demo bank's service levels: what a mainland retail bank typically commits to.

Complaints run the bank's own clocks (first response, 24-hour resolution) here; the
regulator's 15-day decision limit runs beside them from the statutory policy a fresh install
seeds (complaints/regulators.py). Everything here is ordinary data
that admins edit afterwards; `bankdesk sla recompute` applies their edits to open cases.
"""

from __future__ import annotations

from bankdesk.complaints.regulators import regulator_profiles_seed
from bankdesk.sla.choices import EscalationAction, Metric, Threshold, TimeBasis
from bankdesk.sla.models import SlaPolicy, SlaTarget
from bankdesk.sla.services import EscalationSpec, TargetSpec, sla_policy_create
from bankdesk.staff.models import Team
from bankdesk.tickets.choices import CaseStatus, Priority
from bankdesk.tickets.models import Category

HOUR = 60
DAY = 24 * HOUR
BUSINESS_DAY = 8 * HOUR  # cn-mainland: 09:00–17:00


def _notify(threshold: str) -> EscalationSpec:
    return EscalationSpec(threshold=threshold, action=EscalationAction.NOTIFY_SUPERVISOR)


def demo_service_levels_seed(*, complaint_team: Team) -> int:
    """Add the demo policies that are missing (by code); returns how many were added."""
    existing = set(SlaPolicy.objects.values_list("code", flat=True))
    wanted = [
        {
            "code": "complaints",
            "name": "投诉处理时限",
            "position": 10,
            "is_complaint": True,
            "targets": [
                TargetSpec(
                    name="投诉首次响应 2 个工作小时",
                    metric=Metric.FIRST_RESPONSE,
                    minutes=2 * HOUR,
                    warning_percent=75,
                    escalations=(
                        _notify(Threshold.WARNING),
                        EscalationSpec(
                            threshold=Threshold.BREACH,
                            action=EscalationAction.RAISE_PRIORITY,
                            priority=Priority.URGENT,
                        ),
                    ),
                ),
                TargetSpec(
                    name="行内 24 小时办结",
                    metric=Metric.RESOLUTION,
                    minutes=DAY,
                    basis=TimeBasis.CALENDAR,
                    warning_percent=75,
                    escalations=(_notify(Threshold.WARNING), _notify(Threshold.BREACH)),
                ),
            ],
        },
        {
            "code": "urgent",
            "name": "紧急事项（挂失、盗刷）",
            "position": 20,
            "priorities": [Priority.URGENT],
            "targets": [
                TargetSpec(
                    name="首次响应 15 分钟",
                    metric=Metric.FIRST_RESPONSE,
                    minutes=15,
                    basis=TimeBasis.CALENDAR,
                    escalations=(_notify(Threshold.BREACH),),
                ),
                TargetSpec(
                    name="4 小时解决",
                    metric=Metric.RESOLUTION,
                    minutes=4 * HOUR,
                    basis=TimeBasis.CALENDAR,
                ),
            ],
        },
        {
            "code": "standard",
            "name": "标准服务",
            "position": 100,
            "pause_statuses": [CaseStatus.PENDING_CUSTOMER],
            "targets": [
                TargetSpec(
                    name="首次响应 4 个工作小时",
                    metric=Metric.FIRST_RESPONSE,
                    minutes=4 * HOUR,
                    warning_percent=75,
                    escalations=(_notify(Threshold.BREACH),),
                ),
                TargetSpec(
                    name="后续响应 1 个工作日", metric=Metric.NEXT_RESPONSE, minutes=BUSINESS_DAY
                ),
                TargetSpec(
                    name="3 个工作日解决",
                    metric=Metric.RESOLUTION,
                    minutes=3 * BUSINESS_DAY,
                    warning_percent=80,
                    escalations=(
                        _notify(Threshold.WARNING),
                        EscalationSpec(
                            threshold=Threshold.BREACH, action=EscalationAction.RAISE_PRIORITY
                        ),
                    ),
                ),
            ],
        },
    ]
    added = 0
    for policy in wanted:
        if policy["code"] in existing:
            continue
        sla_policy_create(actor=None, **policy)  # type: ignore[arg-type]
        added += 1
    # The regulators' profiles a migration seeds (again, if the tables were emptied), now with
    # the demo's categories: the FCA's payment-services policy covers its payments group.
    return added + regulator_profiles_seed(
        policy_model=SlaPolicy, target_model=SlaTarget, category_model=Category
    )
