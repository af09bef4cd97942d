"""The plan's 24-hour closure ratio equals a hand count: complaints received and closed at set
moments, counted by the register's measure and by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bankdesk.complaints.models import Complaint
from bankdesk.complaints.selectors import closure_within_24h
from bankdesk.tickets.services import case_create

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 10, 12, 2, 0, tzinfo=UTC)  # a Monday, 10:00 in Shanghai
HOUR = timedelta(hours=1)

# (received, closed): hours after T0; None: still open.
FIXTURE = [
    (0, 3),  # within
    (0, 24),  # exactly 24 hours: within
    (0, 24 + 1 / 3600),  # one second over: not within
    (5, 50),  # two days: not within
    (10, 30),  # within (20 hours)
    (12, None),  # open: not counted
    (-200, 30),  # received long before, closed in the period: not within
    (-30, -10),  # closed before the period: not counted
    (40, 47),  # within
    (60, 24 * 9),  # closed after the period ends (day 8): not counted
]
PERIOD = (T0, T0 + timedelta(days=8))


@pytest.fixture
def complaints(categories) -> list[Complaint]:
    made = []
    for received, closed in FIXTURE:
        case = case_create(
            subject="投诉", channel="phone", category=categories["complaint_fees"], actor=None
        )
        record = Complaint.objects.get(case=case)
        record.received_at = T0 + received * HOUR
        record.closed_at = None if closed is None else T0 + closed * HOUR
        record.save(update_fields=["received_at", "closed_at"])
        made.append(record)
    return made


def test_the_24_hour_ratio_equals_the_hand_count(complaints):
    since, until = PERIOD
    ratio = closure_within_24h(Complaint.objects.all(), since=since, until=until)
    # By hand: closed in the period are rows 1, 2, 3, 4, 5, 7, 9 (seven); within 24 hours of
    # receipt are rows 1, 2, 5 and 9 (four).
    assert (ratio.within, ratio.total) == (4, 7)
    assert ratio.percent == 57.1
    # The same by the records' own property, over the same rows.
    counted = [c for c in complaints if c.closed_at and since <= c.closed_at < until]
    assert len(counted) == 7
    assert sum(1 for c in counted if c.closed_within_24h) == 4


def test_no_closure_has_no_ratio(db):
    ratio = closure_within_24h(Complaint.objects.all(), since=PERIOD[0], until=PERIOD[1])
    assert (ratio.within, ratio.total, ratio.percent) == (0, 0, None)
