"""Collision detection: two people on one case see each other, and who is writing."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from bankdesk.staff.choices import Role
from bankdesk.tickets.collision import case_activity_prune
from bankdesk.tickets.models import CaseActivity
from bankdesk.tickets.services import case_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(agent, general_team):
    return case_create(subject="转账未到账", channel="phone", actor=agent, team=general_team)


def test_each_sees_the_other_and_who_is_replying_first(
    api_for, agent, make_staff, general_team, case
):
    colleague = make_staff("colleague", Role.AGENT, [general_team])
    mine, theirs = api_for(agent), api_for(colleague)
    assert mine.put(f"/cases/{case.pk}/activity", {"activity": "viewing"}).json_body == {
        "others": []
    }
    seen = theirs.put(f"/cases/{case.pk}/activity", {"activity": "replying"}).json_body
    assert [(o["user"]["id"], o["activity"]) for o in seen["others"]] == [(agent.pk, "viewing")]
    others = mine.get(f"/cases/{case.pk}/activity").json_body["others"]
    assert [(o["user"]["id"], o["activity"]) for o in others] == [(colleague.pk, "replying")]


def test_someone_who_left_or_went_quiet_is_no_longer_shown(api_for, agent, supervisor, case):
    mine, theirs = api_for(agent), api_for(supervisor)
    theirs.put(f"/cases/{case.pk}/activity", {"activity": "viewing"})
    assert theirs.delete(f"/cases/{case.pk}/activity").status_code == 204
    assert mine.get(f"/cases/{case.pk}/activity").json_body["others"] == []
    theirs.put(f"/cases/{case.pk}/activity", {"activity": "viewing"})
    with time_machine.travel(timezone.now() + timedelta(seconds=46)):
        assert mine.get(f"/cases/{case.pk}/activity").json_body["others"] == []


def test_one_row_per_person_however_often_they_report(api_for, agent, case):
    api = api_for(agent)
    for activity in ("viewing", "replying", "viewing"):
        api.put(f"/cases/{case.pk}/activity", {"activity": activity})
    assert CaseActivity.objects.filter(case=case).count() == 1
    assert CaseActivity.objects.get(case=case).activity == "viewing"


def test_an_auditor_may_be_seen_viewing_but_not_claim_to_reply(api_for, auditor, case):
    api = api_for(auditor)
    assert api.put(f"/cases/{case.pk}/activity", {"activity": "viewing"}).status_code == 200
    response = api.put(f"/cases/{case.pk}/activity", {"activity": "replying"})
    assert response.status_code == 403
    assert CaseActivity.objects.get(case=case).activity == "viewing"


def test_nobody_learns_about_a_case_they_may_not_see(api_for, make_staff, case):
    outsider = api_for(make_staff("outsider"))
    assert outsider.get(f"/cases/{case.pk}/activity").status_code == 404
    assert outsider.put(f"/cases/{case.pk}/activity", {"activity": "viewing"}).status_code == 404
    assert not CaseActivity.objects.exists()


def test_an_unknown_activity_is_refused(api_for, agent, case):
    response = api_for(agent).put(f"/cases/{case.pk}/activity", {"activity": "typing"})
    assert (response.status_code, response.json_body["field"]) == (422, "activity")
    assert not CaseActivity.objects.exists()


def test_reports_a_day_old_are_forgotten(api_for, agent, case):
    api_for(agent).put(f"/cases/{case.pk}/activity", {"activity": "viewing"})
    assert case_activity_prune(now=timezone.now() + timedelta(hours=23)) == 0
    assert case_activity_prune(now=timezone.now() + timedelta(days=2)) == 1
