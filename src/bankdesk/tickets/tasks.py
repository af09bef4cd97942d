"""Background work for cases."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from django_tasks import task

from bankdesk.lib.errors import BankdeskError
from bankdesk.tickets.choices import CaseStatus
from bankdesk.tickets.collision import case_activity_prune
from bankdesk.tickets.models import Case
from bankdesk.tickets.services import case_status_change

logger = logging.getLogger(__name__)

AUTOCLOSE_BATCH = 500


def resolved_cases_due_for_close(now: datetime | None = None) -> list[int]:
    cutoff = (now or timezone.now()) - timedelta(days=settings.BANKDESK_AUTOCLOSE_DAYS)
    return list(
        Case.objects.filter(status=CaseStatus.RESOLVED, resolved_at__lte=cutoff)
        .order_by("resolved_at")
        .values_list("pk", flat=True)[:AUTOCLOSE_BATCH]
    )


@task()
def case_autoclose_sweep() -> int:
    """Close cases resolved BANKDESK_AUTOCLOSE_DAYS ago with no further contact.

    Each case closes in its own transaction through the normal service, so a case the customer
    reopened a moment ago is skipped (the state machine refuses), not overwritten.
    """
    closed = 0
    for case_id in resolved_cases_due_for_close():
        case = Case.objects.filter(pk=case_id).first()
        if case is None:
            continue
        try:
            case_status_change(
                case=case,
                status=CaseStatus.CLOSED,
                actor=None,
                reason="closed automatically after the resolution period",
            )
            closed += 1
        except BankdeskError:
            logger.info("case %s changed before auto-close; skipped", case_id)
    return closed


@task()
def case_activity_prune_run() -> int:
    """Forget who had which case open, once it is a day old."""
    return case_activity_prune()
