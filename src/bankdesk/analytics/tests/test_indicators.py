"""Every indicator equals its hand count on the autumn fixture (see conftest.py for the story
and the arithmetic); drill-downs list exactly what a number counts; the rollups the refresh
keeps equal a rebuild from the events."""

from __future__ import annotations

import pytest

from bankdesk.analytics.catalogue import KPIS, Value
from bankdesk.analytics.drill import drill_items
from bankdesk.analytics.kpis import Backlog, backlog_at, backlogs, kpis_compute
from bankdesk.analytics.models import CaseFact, Rollup, Target
from bankdesk.analytics.periods import quarter_period
from bankdesk.analytics.rollups import rollups_rebuild, rollups_refresh, rollups_snapshot
from bankdesk.analytics.tests.conftest import at
from bankdesk.tickets.services import case_message_add

pytestmark = pytest.mark.django_db

Q4 = quarter_period("2026Q4")
Q3 = quarter_period("2026Q3")

# code → (value, numerator, denominator), counted by hand from the story.
Q4_BY_HAND = {
    "complaints_closed_24h": Value(0.0, 0, 1),  # the holiday complaint took 7 days
    "follow_up_rate": Value(33.3, 1, 3),  # holiday, reopened, quick; quick's call is done
    "csat": Value(50.0, 1, 2),  # the late answer (5) counts in Q4, quick's (2) too
    "nps": Value(0.0, 0, 2),  # one promoter (10), one detractor (5)
    "survey_response_rate": Value(33.3, 1, 3),  # sent in Q4: holiday, reopened, quick
    "complaint_rate_cases": Value(0.0, 0, 3),  # no complaint received in Q4; 3 cases opened
    "complaint_decision_p50": Value(11160, None, 1),
    "complaint_decision_p90": Value(11160, None, 1),
    "complaint_extension_rate": Value(0.0, 0, 1),
    "complaint_reopen_rate": Value(0.0, 0, 1),
    "first_response_calendar_p50": Value(10, None, 2),  # reopened 30, quick 10
    "first_response_calendar_p90": Value(30, None, 2),
    "first_response_business_p50": Value(10, None, 2),
    "first_response_business_p90": Value(30, None, 2),
    "resolution_calendar_p50": Value(1560, None, 3),  # 20, 1,560, 11,220
    "resolution_calendar_p90": Value(11220, None, 3),
    "resolution_business_p50": Value(180, None, 3),  # 20, 180, 600
    "resolution_business_p90": Value(600, None, 3),
    "resolution_rate": Value(66.7, 2, 3),  # opened in Q4: reopened, quick (resolved), waiting
    "first_contact_resolution": Value(66.7, 2, 3),  # holiday and quick; reopened was not
    "reopen_rate": Value(33.3, 1, 3),
    "assistant_containment": Value(50.0, 1, 2),
    "backlog": Value(1, 1, None),  # waiting
    "backlog_age_p50": Value(8 * 24 * 60, None, 1),
    # One active customer (every case is theirs), under no plan, no suggestion accepted.
    "personalised_coverage": Value(0.0, 0, 1),
}


@pytest.fixture
def refreshed(autumn):
    rollups_refresh()
    return autumn


def _values(period, **kwargs) -> dict[str, Value]:
    return {result.kpi.code: result.value for result in kpis_compute(period, **kwargs)}


def test_every_indicator_equals_the_hand_count(refreshed):
    values = _values(Q4)
    for code, expected in Q4_BY_HAND.items():
        assert values[code] == expected, code


def test_facts_come_from_the_events(refreshed):
    cases = refreshed.cases
    holiday = CaseFact.objects.get(case=cases["holiday"])
    assert (holiday.resolution_minutes, holiday.resolution_business_minutes) == (11220, 180)
    assert holiday.is_complaint and holiday.first_contact
    reopened = CaseFact.objects.get(case=cases["reopened"])
    assert (reopened.reopened, reopened.first_contact) == (1, False)
    assert (reopened.resolution_minutes, reopened.resolution_business_minutes) == (1560, 600)
    assert CaseFact.objects.get(case=cases["merged"]).merged
    # The case row says where the case is; the fact says what happened, whatever the row says.
    cases["quick"].__class__.objects.filter(pk=cases["quick"].pk).update(first_response_at=None)
    rollups_rebuild()
    assert CaseFact.objects.get(case=cases["quick"]).first_response_minutes == 10


def test_the_late_answer_counts_when_it_was_given(refreshed):
    q3 = _values(Q3)
    # Q3: the late case's survey was sent (and is answered), but no answer was given in Q3.
    assert q3["survey_response_rate"] == Value(100.0, 1, 1)
    assert q3["csat"] == Value(None, 0, 0)
    # CSAT change: Q4's 50 % against a baseline quarter with no answers is not a number.
    assert _values(Q4)["csat_change"].value is None


def test_csat_change_against_the_baseline_quarter(refreshed):
    Target.objects.filter(code="csat_change").update(baseline_quarter="2026Q3")
    assert _values(Q4)["csat_change"].value is None  # Q3 has no CSAT
    Target.objects.filter(code="csat_change").update(baseline_quarter="2026Q4")
    [result] = kpis_compute(Q4, codes=["csat_change"])
    assert result.value.value == 0.0 and result.baseline == Value(50.0, 1, 2)
    assert result.status == "missed"  # +10 % wanted


def test_slices_add_up_to_the_whole(refreshed):
    by_team = {r.kpi.code: r for r in kpis_compute(Q4, group_by="team")}
    rows = {line.key: line.value for line in by_team["resolution_rate"].rows}
    general = str(refreshed.agent.teams.get().pk)
    assert rows[general] == Value(66.7, 2, 3)
    assert sum(value.denominator or 0 for value in rows.values()) == 3
    complaints = {line.key: line.value for line in by_team["complaints_closed_24h"].rows}
    officer_team = str(refreshed.officer.teams.get().pk)
    assert complaints[officer_team] == Value(0.0, 0, 1)
    by_tier = {r.kpi.code: r for r in kpis_compute(Q4, group_by="tier")}
    tiers = {line.key: line.value.denominator for line in by_tier["resolution_rate"].rows}
    assert tiers["standard"] == 3
    by_channel = {r.kpi.code: r for r in kpis_compute(Q4, group_by="channel")}
    chats = {line.key: line.value for line in by_channel["assistant_containment"].rows}
    assert chats["web_chat"] == Value(50.0, 1, 2)


@pytest.mark.parametrize("kpi", [k for k in KPIS if k.numerator or k.denominator], ids=str)
def test_drill_down_counts_equal_the_numbers(refreshed, kpi):
    value = _values(Q4)[kpi.code]
    for part in ("numerator", "denominator"):
        if getattr(kpi, part) is None:
            continue
        items = drill_items(kpi.code, Q4, part=part)
        expected = getattr(value, part)
        if expected is None:  # a percentile's numerator: the drill lists its denominator
            continue
        assert len(items) == expected, (kpi.code, part)


def test_drill_down_by_slice_and_by_sla_target(refreshed):
    results = {r.kpi.code: r for r in kpis_compute(Q4, group_by="agent")}
    for line in results["resolution_rate"].rows:
        items = drill_items(
            "resolution_rate", Q4, part="denominator", dimension="agent", key=line.key
        )
        assert len(items) == line.value.denominator
    for part in results["sla_attainment"].parts:
        items = drill_items("sla_attainment", Q4, part="denominator", target=part.key)
        assert len(items) == part.value.denominator


def test_rebuilding_from_the_events_reproduces_the_rollups(refreshed):
    kept = rollups_snapshot()
    assert kept, "the refresh kept nothing"
    facts = list(CaseFact.objects.order_by("pk").values())
    rollups_rebuild()
    assert rollups_snapshot() == kept
    assert list(CaseFact.objects.order_by("pk").values()) == facts


def test_the_refresh_folds_in_only_what_changed(refreshed):
    before = rollups_snapshot()
    assert rollups_refresh()["cases"] == 0
    assert rollups_snapshot() == before
    with at("2026-11-10T10:30"):
        case_message_add(
            case=refreshed.cases["waiting"],
            direction="outbound",
            text="在处理了",
            actor=refreshed.agent,
        )
        outcome = rollups_refresh()
    assert outcome["cases"] == 1
    assert (
        Rollup.objects.filter(day="2026-11-10", dimension="all").get().figures["first_responses"]
        == 1
    )
    kept = rollups_snapshot()
    with at("2026-11-10T10:30"):
        rollups_rebuild()
    assert rollups_snapshot() == kept


def test_by_month_the_months_add_up_and_open_their_records(refreshed):
    by_month = {r.kpi.code: r for r in kpis_compute(Q4, group_by="month")}
    rows = {line.key: line.value for line in by_month["resolution_rate"].rows}
    # Opened in October: reopened, quick (both resolved); in November: waiting.
    assert rows == {"2026-10": Value(100.0, 2, 2), "2026-11": Value(0.0, 0, 1)}
    backlog = {line.key: line.value for line in by_month["backlog"].rows}
    # Open at the end of October: nothing (waiting came in November); at 10 November: waiting.
    assert (backlog["2026-10"].value, backlog["2026-11"].value) == (0, 1)
    items = drill_items("resolution_rate", Q4, part="denominator", dimension="month", key="2026-11")
    assert [item.case_id for item in items] == [refreshed.cases["waiting"].pk]


def test_the_backlogs_age_counted_in_the_database_equals_the_one_counted_by_slice(
    refreshed, customer
):
    # Four more cases wait, opened 1, 2, 3 and 5 days before the clock (10 November, 10:00).
    for day in (9, 8, 7, 5):
        with at(f"2026-11-{day:02d}T10:00"):
            _open_waiting(customer, refreshed.agent)
    rollups_refresh()
    whole = backlog_at(Q4)
    # Ages in days: 1, 2, 3, 5, 8 (waiting): median the 3rd, p90 the 5th (ceil 4.5).
    assert whole == Backlog(5, 3 * 24 * 60, 8 * 24 * 60)
    assert backlogs(Q4, "team")["*"] == whole
    assert backlogs(Q4, "tier")["standard"] == whole


def _open_waiting(customer, agent):
    from bankdesk.tickets.services import case_create

    return case_create(subject="等待中", channel="email", actor=None, customer=customer,
                       text="还在等", assignee=agent)  # fmt: skip
