"""Collision detection: who else has a case open, and who is writing to its customer.

The console reports what its user is doing on a case every few seconds (and when they leave);
each report answers with everyone else seen within the window. One row per person and case is
upserted, so the table stays as small as the number of open screens.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from bankdesk.lib.errors import InvalidInput
from bankdesk.staff.models import User
from bankdesk.tickets.choices import Activity
from bankdesk.tickets.models import Case, CaseActivity

# Consoles report every 15 seconds; three missed reports and a person counts as gone.
ACTIVITY_WINDOW = timedelta(seconds=45)
PRUNE_AFTER = timedelta(days=1)


@dataclass(frozen=True)
class Watcher:
    user: User
    activity: str
    since: datetime

    @property
    def activity_label(self) -> str:
        return str(Activity(self.activity).label)


def case_watchers(*, case: Case, excluding: User | None = None) -> list[Watcher]:
    """Everyone seen on the case within the window, people replying first."""
    rows = CaseActivity.objects.filter(
        case=case, seen_at__gte=timezone.now() - ACTIVITY_WINDOW
    ).select_related("user")
    if excluding is not None:
        rows = rows.exclude(user=excluding)
    found = [Watcher(row.user, row.activity, row.seen_at) for row in rows]
    return sorted(found, key=lambda w: (w.activity != Activity.REPLYING, w.user.pk))


def case_activity_report(*, case: Case, user: User, activity: str) -> list[Watcher]:
    """Record what `user` is doing on the case now; returns the others on it."""
    if activity not in Activity.values:
        raise InvalidInput("activity is viewing or replying", field="activity")
    now = timezone.now()
    updated = CaseActivity.objects.filter(case=case, user=user).update(
        activity=activity, seen_at=now
    )
    if not updated:
        try:
            with transaction.atomic():
                CaseActivity.objects.create(case=case, user=user, activity=activity, seen_at=now)
        except IntegrityError:  # the same person's other tab got there first
            CaseActivity.objects.filter(case=case, user=user).update(activity=activity, seen_at=now)
    return case_watchers(case=case, excluding=user)


def case_activity_end(*, case: Case, user: User) -> None:
    """The person closed the case."""
    CaseActivity.objects.filter(case=case, user=user).delete()


def case_activity_prune(*, now: datetime | None = None) -> int:
    """Forget reports from screens closed without saying so."""
    cutoff = (now or timezone.now()) - PRUNE_AFTER
    deleted, _ = CaseActivity.objects.filter(seen_at__lt=cutoff).delete()
    return deleted
