"""Registering customers and finding them again by what they tell us."""

from __future__ import annotations

import pytest

from bankdesk.customers.models import Customer, Identity
from bankdesk.security.crypto import keyring

pytestmark = pytest.mark.django_db

NEW_CUSTOMER = {
    "customer_number": "6200005678",
    "name": "Chan Tai Man",
    "segment": "private_banking",
    "tier": "platinum",
    "preferred_language": "zh-hant",
    "preferred_channel": "wechat",
    "identities": [
        {"kind": "phone", "value": "+852 9123 4567"},
        {"kind": "email", "value": "TM.Chan@Example.hk"},
        {"kind": "national_id", "value": "11010519491231002x"},
    ],
    "holdings": [
        {"kind": "card", "product": "白金信用卡", "reference": "CRD-7781", "last4": "9012"}
    ],
}


def test_register_a_customer_with_identities_and_holdings(agent_api):
    response = agent_api.post("/customers", NEW_CUSTOMER)
    assert response.status_code == 201, response.json_body
    body = response.json_body
    assert body["tier"] == "platinum"
    assert {i["kind"] for i in body["identities"]} == {"phone", "email", "national_id"}
    assert body["holdings"][0]["last4"] == "9012"
    stored = Identity.objects.get(kind="national_id")
    assert stored.value == "11010519491231002X"  # kept in canonical form, decrypted on read
    assert stored.lookup == keyring().blind_index("national_id", "11010519491231002X")


def test_find_a_customer_however_the_phone_or_email_is_typed(agent_api, customer):
    for phone in ("13812345678", "+86 138-1234-5678", "0086 138 1234 5678"):
        found = agent_api.get("/customers", phone=phone).json_body
        assert [c["id"] for c in found] == [customer.pk], phone
    assert [c["id"] for c in agent_api.get("/customers", email="wang.xm@EXAMPLE.cn").json_body] == [
        customer.pk
    ]
    assert [
        c["id"] for c in agent_api.get("/customers", customer_number="6200001234").json_body
    ] == [customer.pk]
    assert agent_api.get("/customers", phone="13900000000").json_body == []


def test_an_unparseable_phone_in_a_search_is_a_422(agent_api, customer):
    response = agent_api.get("/customers", phone="not a phone")
    assert response.status_code == 422
    assert response.json_body["code"] == "invalid_identity"


def test_a_customer_number_or_identity_is_registered_once(agent_api, customer):
    taken_number = agent_api.post("/customers", {**NEW_CUSTOMER, "customer_number": "6200001234"})
    assert (
        taken_number.status_code == 409
        and taken_number.json_body["code"] == "customer_number_taken"
    )
    taken_phone = agent_api.post(
        "/customers",
        {**NEW_CUSTOMER, "identities": [{"kind": "phone", "value": "138 1234 5678"}]},
    )
    assert taken_phone.status_code == 409 and taken_phone.json_body["code"] == "identity_taken"
    # All or nothing: the refused customer was not half-created.
    assert Customer.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"customer_number": "x"}, "customer_number"),
        ({"tier": "gold-plus"}, "tier"),
        ({"identities": [{"kind": "national_id", "value": "110105194912310021"}]}, "national_id"),
        (
            {
                "holdings": [
                    {
                        "kind": "card",
                        "product": "卡",
                        "reference": "6222 0212 3456 7890",
                        "last4": "7890",
                    }
                ]
            },
            "reference",
        ),
        (
            {
                "holdings": [
                    {"kind": "card", "product": "卡", "reference": "CRD-1", "last4": "78901"}
                ]
            },
            "holdings.0.last4",
        ),
    ],
)
def test_bad_customer_input_is_refused_with_the_field(agent_api, change, field):
    response = agent_api.post("/customers", {**NEW_CUSTOMER, **change})
    assert response.status_code == 422, response.json_body
    assert response.json_body["field"] == field
    assert Customer.objects.count() == 0


def test_unknown_customer_is_a_404(agent_api):
    response = agent_api.get("/customers/987654")
    assert response.status_code == 404 and response.json_body["code"] == "customer_not_found"
