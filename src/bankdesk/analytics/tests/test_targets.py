"""Targets are data: administrators set them at /manage/targets/ (audited), the dashboard
measures against them, others read them; bad values are refused and change nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bankdesk.analytics.models import Target
from bankdesk.conftest import sign_in_with_second_factor
from bankdesk.security.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_a_fresh_install_has_the_plans_targets():
    plan = {t.code: (t.value, t.direction) for t in Target.objects.filter(in_plan=True)}
    assert plan == {
        "csat_change": (Decimal("10.00"), "higher"),
        "complaints_closed_24h": (Decimal("95.00"), "higher"),
        "follow_up_rate": (Decimal("80.00"), "higher"),
        "personalised_coverage": (Decimal("70.00"), "higher"),
    }


def test_an_administrator_sets_a_target(client, admin_user):
    sign_in_with_second_factor(client, admin_user)
    page = client.get("/manage/targets/").content.decode()
    assert "投诉" in page or "Complaints" in page
    response = client.post(
        "/manage/targets/",
        {"code": "csat_change", "value": "12", "direction": "higher", "baseline_quarter": "2025q4"},
    )
    assert response.status_code == 302
    target = Target.objects.get(code="csat_change")
    assert (target.value, target.baseline_quarter, target.updated_by) == (
        Decimal("12.00"),
        "2025Q4",
        admin_user,
    )
    assert AuditEntry.objects.filter(action="analytics.target_changed").count() == 1
    added = client.post("/manage/targets/", {"code": "nps", "value": "30", "direction": "higher"})
    assert added.status_code == 302 and Target.objects.filter(code="nps").exists()
    assert client.post("/manage/targets/", {"action": "remove", "code": "nps"}).status_code == 302
    assert not Target.objects.filter(code="nps").exists()
    kept = client.post("/manage/targets/", {"action": "remove", "code": "follow_up_rate"})
    assert kept.status_code == 400 and Target.objects.filter(code="follow_up_rate").exists()


@pytest.mark.parametrize(
    "posted",
    [
        {"code": "follow_up_rate", "value": "180", "direction": "higher"},
        {"code": "follow_up_rate", "value": "80", "direction": "sideways"},
        {"code": "follow_up_rate", "value": "eighty", "direction": "higher"},
        {"code": "no_such", "value": "80", "direction": "higher"},
        {"code": "csat_change", "value": "10", "direction": "higher", "baseline_quarter": "2025Q7"},
        {"code": "csat", "value": "80", "direction": "higher", "baseline_quarter": "2025Q4"},
    ],
)
def test_bad_targets_are_refused_and_change_nothing(client, admin_user, posted):
    sign_in_with_second_factor(client, admin_user)
    before = list(Target.objects.order_by("code").values_list("code", "value", "direction"))
    response = client.post("/manage/targets/", posted)
    assert response.status_code == 400
    assert list(Target.objects.order_by("code").values_list("code", "value", "direction")) == before


def test_supervisors_read_the_targets_and_agents_do_not(client, supervisor, agent):
    sign_in_with_second_factor(client, supervisor)
    assert client.get("/manage/targets/").status_code == 200
    changed = client.post("/manage/targets/", {"code": "nps", "value": "1", "direction": "higher"})
    assert changed.status_code == 403
    client.logout()
    sign_in_with_second_factor(client, agent)
    assert client.get("/manage/targets/").status_code == 403
