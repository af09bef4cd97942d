"""What each role sees of a customer, and the audited reveal of a full value."""

from __future__ import annotations

import pytest

from bankdesk.security.models import AuditEntry

pytestmark = pytest.mark.django_db


def _identities(api, customer):
    body = api.get(f"/customers/{customer.pk}").json_body
    return {i["kind"]: i["value"] for i in body["identities"]}, body["holdings"][0]["reference"]


def test_an_agent_sees_masked_identifiers(agent_api, customer):
    identities, reference = _identities(agent_api, customer)
    assert identities == {"phone": "*********5678", "email": "w***@example.cn"}
    assert reference == "****0001"


def test_a_complaint_officer_sees_the_phone_to_call_back(complaint_officer, api_for, customer):
    identities, _ = _identities(api_for(complaint_officer), customer)
    assert identities["phone"] == "+8613812345678"
    assert identities["email"] == "w***@example.cn"


def test_reveal_needs_a_reason_and_is_audited(supervisor, api_for, customer):
    api = api_for(supervisor)
    refused = api.post(f"/customers/{customer.pk}/reveal", {"field": "email", "reason": ""})
    assert refused.status_code == 422
    before = AuditEntry.objects.count()
    response = api.post(
        f"/customers/{customer.pk}/reveal",
        {"field": "email", "reason": "客户来电核实身份 / verifying identity on a call"},
    )
    assert response.status_code == 200
    assert response.json_body == {"field": "email", "values": ["wang.xm@example.cn"]}
    entry = AuditEntry.objects.latest("sequence")
    assert AuditEntry.objects.count() == before + 1
    assert entry.action == "customer.reveal"
    assert entry.fields == ["identity.email"]
    assert entry.reason.startswith("客户来电核实身份")
    assert entry.actor_name == "supervisor"
    assert "wang.xm" not in repr(entry.__dict__)


def test_an_agent_may_not_reveal(agent_api, customer):
    before = AuditEntry.objects.count()
    response = agent_api.post(
        f"/customers/{customer.pk}/reveal", {"field": "phone", "reason": "just curious"}
    )
    assert response.status_code == 403
    assert AuditEntry.objects.count() == before


def test_holding_references_can_be_revealed_one_at_a_time(supervisor, api_for, customer):
    holding = customer.holdings.get()
    response = api_for(supervisor).post(
        f"/customers/{customer.pk}/reveal",
        {"field": "holding_reference", "holding_id": holding.pk, "reason": "core system lookup"},
    )
    assert response.json_body["values"] == ["CRD-0001"]
