"""The bank's standard SLA policy as the tests set it up, with the targets each test needs."""

from __future__ import annotations

from bankdesk.sla.models import SlaPolicy
from bankdesk.sla.services import TargetSpec, sla_policy_create


def standard_policy_create(*targets: TargetSpec) -> SlaPolicy:
    """Policy `standard`: every case not caught by an earlier one, paused while the bank waits
    for the customer."""
    return sla_policy_create(
        code="standard",
        name="Standard service",
        position=100,
        pause_statuses=["pending_customer"],
        actor=None,
        targets=list(targets),
    )
