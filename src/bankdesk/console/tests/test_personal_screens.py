"""Personalised service in the console: the panel and its decisions on a case, the customer 360
forms (preferences, consents, life events), the overview, and the segment and plan screens —
each role allowed what it may do, bad input refused with the reason and nothing lost."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from bankdesk.conftest import sign_in_with_second_factor
from bankdesk.customers.models import Consent, Customer, LifeEvent
from bankdesk.personalization.models import Segment, ServicePlan, Suggestion
from bankdesk.personalization.refresh import personalization_refresh
from bankdesk.security.models import AuditEntry
from bankdesk.tickets.models import Case
from bankdesk.tickets.services import case_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def served(migrated_data, customer: Customer, agent, general_team) -> Case:
    Customer.objects.filter(pk=customer.pk).update(birth_year=timezone.localdate().year - 72)
    case = case_create(
        subject="养老金到账",
        channel="phone",
        actor=agent,
        customer=customer,
        text="养老金到账了吗",
        team=general_team,
        assignee=agent,
    )
    personalization_refresh()
    return case


def test_the_case_shows_the_plan_its_guidance_and_the_suggestions(client, served, agent):
    client.force_login(agent)
    page = client.get(f"/cases/{served.pk}/").content.decode()
    assert "适老化服务" in page  # the seniors' plan
    assert "语速放慢" in page  # its guidance
    assert "年龄 72（65 岁及以上）" in page  # why they are a senior
    assert 'data-action="fraud_awareness"' in page and "讲解防诈骗要点" in page


def test_an_agent_accepts_and_declines_on_the_case(client, served, agent):
    client.force_login(agent)
    fraud = Suggestion.objects.get(customer=served.customer, action="fraud_awareness")
    phone = Suggestion.objects.get(customer=served.customer, action="verify_phone")
    answer = client.post(
        f"/suggestions/{fraud.pk}/decide/",
        {"case": served.pk, "outcome": "accepted", "next": f"/cases/{served.pk}/"},
    )
    assert answer.status_code == 302 and answer["Location"] == f"/cases/{served.pk}/"
    client.post(f"/suggestions/{phone.pk}/decide/", {"case": served.pk, "outcome": "declined"})
    fraud.refresh_from_db()
    phone.refresh_from_db()
    assert (fraud.status, fraud.case_id, fraud.decided_by_id) == ("accepted", served.pk, agent.pk)
    assert phone.status == "declined"
    assert AuditEntry.objects.filter(action="personalization.suggestion_accepted").exists()
    # Twice: refused with the reason, nothing changed.
    again = client.post(
        f"/suggestions/{fraud.pk}/decide/", {"case": served.pk, "outcome": "declined"}, follow=True
    )
    assert "该建议已有处理结果" in again.content.decode()
    fraud.refresh_from_db()
    assert fraud.status == "accepted"
    # An outcome that is not one, and a link off-site, change nothing and go nowhere else.
    other = Suggestion.objects.filter(customer=served.customer, status="open").first()
    if other is not None:
        bad = client.post(
            f"/suggestions/{other.pk}/decide/",
            {"case": served.pk, "outcome": "maybe", "next": "https://evil.example/"},
        )
        assert bad.status_code == 302 and bad["Location"] == "/home/"
        other.refresh_from_db()
        assert other.status == "open"


def test_a_suggestion_is_decided_only_for_its_own_customer_and_by_whom_may(
    client, served, agent, auditor, general_team, make_staff
):
    stranger = Customer.objects.create(customer_number="C-OTHER", name="李四")
    elsewhere = case_create(
        subject="其他", channel="phone", actor=None, customer=stranger, team=general_team
    )
    fraud = Suggestion.objects.get(customer=served.customer, action="fraud_awareness")
    client.force_login(agent)
    assert (
        client.post(
            f"/suggestions/{fraud.pk}/decide/", {"case": elsewhere.pk, "outcome": "accepted"}
        ).status_code
        == 404
    )
    sign_in_with_second_factor(client, auditor)
    assert (
        client.post(
            f"/suggestions/{fraud.pk}/decide/", {"case": served.pk, "outcome": "accepted"}
        ).status_code
        == 404
    )
    fraud.refresh_from_db()
    assert fraud.status == "open"


def test_the_customer_page_records_consents_preferences_and_life_events(
    client, served, agent, auditor
):
    customer = served.customer
    client.force_login(agent)
    page = client.get(f"/customers/{customer.pk}/").content.decode()
    assert "授权" in page and "客户画像与偏好" in page and "讲解防诈骗要点" in page
    client.post(
        f"/customers/{customer.pk}/consents/",
        {"purpose": "marketing", "granted": "yes", "source": "branch"},
    )
    client.post(
        f"/customers/{customer.pk}/consents/",
        {"purpose": "marketing", "granted": "no", "source": "phone"},
    )
    assert list(
        Consent.objects.filter(customer=customer).order_by("id").values_list("granted", "source")
    ) == [(True, "branch"), (False, "phone")]
    assert AuditEntry.objects.filter(action="customer.consent_withdrawn").count() == 1
    refused = client.post(
        f"/customers/{customer.pk}/consents/",
        {"purpose": "everything", "granted": "yes", "source": "branch"},
    )
    assert refused.status_code == 400 and Consent.objects.count() == 2
    half = client.post(
        f"/customers/{customer.pk}/preferences/",
        {"preferred_language": "zh-hans", "contact_from": "09:00", "accessibility": ["vision"]},
    )
    assert half.status_code == 422  # contact hours need both ends
    assert "请同时填写联系时段的起止时间" in half.content.decode()
    customer.refresh_from_db()
    assert customer.accessibility_needs() == []
    client.post(
        f"/customers/{customer.pk}/preferences/",
        {
            "preferred_language": "zh-hant",
            "preferred_channel": "phone",
            "contact_from": "09:00",
            "contact_until": "11:30",
            "dialect": "cantonese",
            "accessibility": ["vision", "elderly_friendly"],
            "birth_year": "1950",
        },
    )
    customer.refresh_from_db()
    assert customer.accessibility_needs() == ["vision", "elderly_friendly"]
    assert (customer.dialect, customer.birth_year, customer.preferred_language) == (
        "cantonese",
        1950,
        "zh-hant",
    )
    future = (timezone.localdate() + timedelta(days=3)).isoformat()
    refused = client.post(
        f"/customers/{customer.pk}/life-events/", {"kind": "retirement", "occurred_on": future}
    )
    assert refused.status_code == 422 and not LifeEvent.objects.exists()
    client.post(
        f"/customers/{customer.pk}/life-events/",
        {"kind": "retirement", "occurred_on": timezone.localdate().isoformat()},
    )
    assert LifeEvent.objects.get().kind == "retirement"
    # Auditors read the 360 and change nothing.
    sign_in_with_second_factor(client, auditor)
    assert "授权" in client.get(f"/customers/{customer.pk}/").content.decode()
    assert (
        client.post(
            f"/customers/{customer.pk}/consents/",
            {"purpose": "marketing", "granted": "yes", "source": "branch"},
        ).status_code
        == 404
    )


def test_the_overview_is_for_those_who_lead_and_audit(client, served, agent, supervisor):
    client.force_login(agent)
    assert client.get("/personal/").status_code == 404
    sign_in_with_second_factor(client, supervisor)
    page = client.get("/personal/").content.decode()
    assert "当前覆盖率" in page and "老年客户" in page and "年龄不小于 65" in page
    assert "适老化服务" in page and "讲解防诈骗要点" in page
    assert "/manage/plans/" not in page  # only administrators change plans


def test_an_administrator_adds_a_segment_and_changes_a_plan(
    client, served, admin_user, general_team
):
    sign_in_with_second_factor(client, admin_user)
    bad = client.post(
        "/manage/segments/new/",
        {"code": "mid-age", "name": "中年", "age_min": "60", "age_max": "40", "is_active": "on"},
    )
    assert bad.status_code == 400 and not Segment.objects.filter(code="mid-age").exists()
    empty = client.post("/manage/segments/new/", {"code": "any", "name": "全部"})
    assert empty.status_code == 400  # a rule needs at least one condition
    made = client.post(
        "/manage/segments/new/",
        {
            "code": "phone-seniors",
            "name": "电话老年客户",
            "name_en": "Seniors on the phone",
            "age_min": "60",
            "channels": ["phone"],
            "is_active": "on",
        },
    )
    assert made.status_code == 302
    segment = Segment.objects.get(code="phone-seniors")
    assert segment.rule == {"age_min": 60, "channels": ["phone"]}
    plan = ServicePlan.objects.get(code="elderly-friendly")
    client.post(
        f"/manage/plans/{plan.pk}/",
        {
            "team": general_team.pk,
            "priority": "urgent",
            "guidance": "慢一点",
            "position": "30",
            "is_active": "on",
        },
    )
    plan.refresh_from_db()
    assert (plan.team, plan.priority, plan.guidance) == (general_team, "urgent", "慢一点")
    assert AuditEntry.objects.filter(action="personalization.plan_changed").exists()
    refused = client.post(f"/manage/plans/{plan.pk}/", {"priority": "whenever", "position": "1"})
    assert refused.status_code == 400
    plan.refresh_from_db()
    assert plan.priority == "urgent"


def test_only_administrators_change_segments_and_plans(client, served, supervisor):
    sign_in_with_second_factor(client, supervisor)
    assert client.get("/manage/segments/new/").status_code == 403
    plan = ServicePlan.objects.first()
    assert plan is not None
    assert client.post(f"/manage/plans/{plan.pk}/", {"position": "1"}).status_code == 403


def test_the_customer_page_shows_only_the_complaints_the_reader_may_see(
    client, served, agent, complaint_team
):
    hidden = case_create(
        subject="乱收费",
        channel="phone",
        actor=None,
        customer=served.customer,
        text="投诉",
        team=complaint_team,
        is_complaint=True,
    )
    client.force_login(agent)
    assert client.get(f"/cases/{hidden.pk}/").status_code == 404
    page = client.get(f"/customers/{served.customer_id}/").content.decode()
    assert hidden.number not in page


def test_a_year_of_birth_refused_keeps_the_preferences_as_they_were(client, served, agent):
    customer = served.customer
    client.force_login(agent)
    refused = client.post(
        f"/customers/{customer.pk}/preferences/",
        {"preferred_language": "en", "dialect": "hakka", "birth_year": "2099"},
    )
    assert refused.status_code == 422 and "这不是有效的出生年份" in refused.content.decode()
    customer.refresh_from_db()
    assert (customer.preferred_language, customer.dialect) == ("zh-hans", "")
    assert not AuditEntry.objects.filter(action="customer.preferences_set").exists()
