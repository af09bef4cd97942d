"""Hotspots count what the register holds: each group's complaints in the period and the period
before equal hand counts, every group opens as exactly the complaints it counts, the fastest
rising needs more than a handful, narratives cluster under their own words in Chinese and
English, and a root cause found on a hotspot is rectified through its actions and then
watched for recurrence."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from bankdesk.complaints.choices import HotspotDimension, RectificationStatus, RootCauseStatus
from bankdesk.complaints.hotspots import (
    LEAF,
    NONE_KEY,
    TOP,
    UNDER,
    Hotspots,
    Period,
    hotspot_complaints,
    hotspots,
)
from bankdesk.complaints.models import Complaint, Rectification, RootCause
from bankdesk.complaints.rectification import (
    RectificationMoveRefused,
    rectification_add,
    rectification_move,
    root_cause_create,
    root_cause_recurrence,
)
from bankdesk.complaints.tests.hotspot_data import (
    ESCROW,
    PERIOD,
    complaint_received,
    register_with_hotspots,
)
from bankdesk.lib.errors import InvalidInput, PermissionDenied
from bankdesk.security.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def register(complaint_officer) -> Hotspots:
    register_with_hotspots(complaint_officer)
    return hotspots(period=PERIOD)


def _counts(found: Hotspots, dimension: str, level: str = LEAF) -> dict[str, tuple[int, int]]:
    return {g.key: (g.count, g.previous) for g in found.table(dimension, level).groups}


def test_groups_count_the_period_and_the_period_before_as_by_hand(register: Hotspots) -> None:
    assert PERIOD.previous == Period.of_dates(date(2024, 1, 1), date(2024, 4, 1))
    assert (register.total, register.previous_total) == (12, 6)
    assert _counts(register, HotspotDimension.PRODUCT) == {
        "product-cards-credit": (6, 1),
        "product-loans-mortgage": (3, 4),
        "product-cards-debit": (2, 1),
        NONE_KEY: (1, 0),
    }
    assert _counts(register, HotspotDimension.PRODUCT, TOP) == {
        UNDER + "product-cards": (8, 2),
        UNDER + "product-loans": (3, 4),
        NONE_KEY: (1, 0),
    }
    assert _counts(register, HotspotDimension.ISSUE)["issue-fees-unexpected"] == (6, 1)
    assert _counts(register, HotspotDimension.CAUSE) == {
        "cause-systems": (6, 1),
        "cause-process": (3, 4),
        NONE_KEY: (3, 1),
    }
    assert _counts(register, HotspotDimension.BRANCH) == {
        "east": (6, 1),
        NONE_KEY: (4, 4),
        "west": (2, 1),
    }
    assert _counts(register, HotspotDimension.CHANNEL) == {
        "wechat": (6, 1),
        "email": (3, 4),
        "phone": (2, 1),
        "web_chat": (1, 0),
    }
    credit = register.table(HotspotDimension.PRODUCT).groups[0]
    assert (credit.label, credit.share, credit.change, credit.growth) == ("信用卡", 50.0, 5, 500.0)


def test_every_group_opens_as_exactly_the_complaints_it_counts(register: Hotspots) -> None:
    for table in register.tables:
        for group in table.groups:
            now = hotspot_complaints(dimension=group.dimension, key=group.key, period=PERIOD)
            before = hotspot_complaints(
                dimension=group.dimension, key=group.key, period=PERIOD.previous
            )
            assert (now.count(), before.count()) == (group.count, group.previous), group
    for cluster in register.clusters:
        now = hotspot_complaints(dimension="text", key=cluster.key, period=PERIOD)
        assert now.count() == cluster.count
    assert sum(c.count for c in register.clusters) <= 12


def test_the_fastest_rising_need_a_handful_and_lead_by_growth(
    register: Hotspots, complaint_officer
) -> None:
    assert register.rising, "credit-card fees rose from 1 to 6"
    assert all(g.count >= 5 and g.change > 0 for g in register.rising)
    assert {(g.dimension, g.key) for g in register.rising} >= {
        ("product", "product-cards-credit"),
        ("issue", "issue-fees-unexpected"),
    }
    # Debit cards rose from 1 to 2 (+100 %) and the unclassified from 0 to 1: neither rises.
    assert not {g.key for g in register.rising} & {"product-cards-debit", NONE_KEY}


def test_narratives_cluster_under_their_own_words_in_chinese_and_english(
    register: Hotspots,
) -> None:
    assert 2 <= len(register.clusters) <= 4
    fees = next(c for c in register.clusters if "年费" in c.name)
    escrow = next(c for c in register.clusters if "escrow" in c.name_en)
    assert fees is not escrow
    assert fees.count >= 6 and fees.previous >= 1
    assert escrow.previous >= 4
    texts = set(
        hotspot_complaints(dimension="text", key=escrow.key, period=PERIOD).values_list(
            "case__subject", flat=True
        )
    )
    assert texts == {t[:40] for t in ESCROW[:3]}


def test_an_unknown_group_is_refused_with_its_field() -> None:
    with pytest.raises(InvalidInput) as caught:
        hotspot_complaints(dimension="product", key="no-such-product", period=PERIOD)
    assert caught.value.field == "key"
    with pytest.raises(InvalidInput):
        Period.of_dates(date(2024, 7, 1), date(2024, 4, 1))


def test_a_root_cause_is_rectified_through_its_actions_and_watched_for_recurrence(
    register: Hotspots, complaint_officer, supervisor, agent
) -> None:
    with pytest.raises(PermissionDenied):
        root_cause_create(dimension="product", key="product-cards-credit", title="x", actor=agent)
    assert not RootCause.objects.exists()
    cause = root_cause_create(
        dimension="product",
        key="product-cards-credit",
        title="年费批处理重复执行",
        description="系统升级后年费批处理在月末执行了两次",
        owner=supervisor,
        actor=complaint_officer,
    )
    assert cause.label == "信用卡" and cause.status == RootCauseStatus.OPEN
    due = timezone.localdate() + timedelta(days=14)
    fix = rectification_add(root_cause=cause, action="批处理增加幂等校验", owner=supervisor,
                            due_on=due, actor=complaint_officer)  # fmt: skip
    notice = rectification_add(root_cause=cause, action="短信告知受影响客户", owner=supervisor,
                               due_on=due, actor=complaint_officer)  # fmt: skip
    with pytest.raises(RectificationMoveRefused):
        rectification_move(rectification=fix, status="done", actor=complaint_officer)
    with pytest.raises(InvalidInput) as caught:
        rectification_add(root_cause=cause, action=" ", owner=supervisor, due_on=due,
                          actor=complaint_officer)  # fmt: skip
    assert caught.value.field == "action"

    rectification_move(rectification=fix, status="in_progress", actor=complaint_officer)
    rectification_move(rectification=fix, status="done", actor=supervisor)
    cause.refresh_from_db()
    assert cause.status == RootCauseStatus.OPEN  # the notice is still planned
    rectification_move(rectification=notice, status="cancelled", actor=supervisor)
    cause.refresh_from_db()
    assert cause.status == RootCauseStatus.RECTIFIED and cause.rectified_at is not None
    assert Rectification.objects.get(pk=fix.pk).done_at is not None
    assert Rectification.objects.get(pk=notice.pk).status == RectificationStatus.CANCELLED
    assert root_cause_recurrence(cause).count() == 0

    again = complaint_received(at=timezone.now(), officer=complaint_officer,
                               text="年费又重复扣收了", channel="app",
                               product="cards-credit")  # fmt: skip
    complaint_received(at=timezone.now(), officer=complaint_officer,
                       text="房贷利率", channel="app", product="loans-mortgage")  # fmt: skip
    assert list(root_cause_recurrence(cause)) == [Complaint.objects.get(pk=again.pk)]

    written = AuditEntry.objects.filter(
        object_type__in=["complaints.rootcause", "complaints.rectification"]
    )
    actions = set(written.values_list("action", flat=True))
    assert actions == {
        "complaints.root_cause.create",
        "complaints.rectification.add",
        "complaints.rectification.move",
        "complaints.root_cause.rectified",
    }


def test_the_command_prints_the_top_products_and_issues_with_their_trend(
    register: Hotspots, tmp_path
) -> None:
    out = StringIO()
    call_command("complaints", "hotspots", "--from", "2024-04-01", "--to", "2024-07-01", stdout=out)
    text = out.getvalue()
    assert "Complaints received 2024-04-01 to 2024-06-30: 12" in text
    assert re.search(r"\s6\s+1\s+\+5\s+\+500\.0%\s+50\.0%\s+信用卡 / Credit cards", text)
    out = StringIO()
    call_command("complaints", "hotspots", "--from", "2024-04-01", "--to", "2024-07-01",
                 "--json", stdout=out)  # fmt: skip
    found = json.loads(out.getvalue())
    assert found["product_leaf"][0]["key"] == "product-cards-credit"
    assert (found["total"], found["previous_total"]) == (12, 6)
    assert any("年费" in c["name"] for c in found["clusters"])
    sheet = tmp_path / "register.xlsx"
    call_command("complaints", "export", "--from", "2024-04-01", "--to", "2024-07-01",
                 "--lang", "en", "--out", str(sheet), stdout=StringIO())  # fmt: skip
    assert sheet.read_bytes()[:2] == b"PK"
