"""Customer data is unreadable in the raw database, yet customers are still found by it."""

from __future__ import annotations

import pytest

from bankdesk.customers.models import Customer
from bankdesk.customers.selectors import customer_search
from bankdesk.customers.services import HoldingInput, IdentityInput, customer_create
from bankdesk.lib.masking import luhn_valid
from bankdesk.tickets.services import case_create

CUSTOMERS = 1000


def _card_number(i: int) -> str:
    body = f"62220{i:010d}"
    check = next(d for d in "0123456789" if luhn_valid(body + d))
    return body + check


def _national_id(i: int) -> str:
    body = f"110105199001{i % 10000:04d}"[:14] + f"{i % 1000:03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(d) * w for d, w in zip(body, weights, strict=True))
    return body + "10X98765432"[total % 11]


def _people() -> list[dict[str, str]]:
    return [
        {
            "phone": f"+86139{i:08d}",
            "email": f"customer.{i:04d}@mail-example.cn",
            "national_id": _national_id(i),
            "card": _card_number(i),
            "name": f"客户{i:04d}号",
        }
        for i in range(CUSTOMERS)
    ]


@pytest.mark.django_db(transaction=True)
def test_a_raw_dump_holds_no_customer_identifiers_and_lookups_still_work(agent, database_dump):
    people = _people()
    for i, person in enumerate(people):
        customer = customer_create(
            customer_number=f"90{i:08d}",
            name=person["name"],
            identities=[
                IdentityInput(kind="phone", value=person["phone"]),
                IdentityInput(kind="email", value=person["email"]),
                IdentityInput(kind="national_id", value=person["national_id"]),
            ],
            holdings=[
                HoldingInput(
                    kind="card",
                    product="借记卡",
                    reference=f"CRD-{i:06d}",
                    last4=person["card"][-4:],
                )
            ],
        )
        if i % 100 == 0:  # customers also type their card numbers into messages
            case_create(
                subject="卡片问题",
                channel="web_chat",
                actor=agent,
                customer=customer,
                text=f"我的卡号是 {person['card']}，密码是 {person['phone'][-6:]}",
            )

    dump = database_dump()
    assert len(dump) > 100_000
    leaked = [
        (field, value)
        for person in people
        for field, value in person.items()
        if field != "name" and value in dump
    ]
    leaked += [("phone digits", p["phone"][3:]) for p in people if p["phone"][3:] in dump]
    leaked += [("name", p["name"]) for p in people if p["name"] in dump]
    assert leaked == []

    for person in people[::97]:
        found = customer_search(phone=person["phone"][3:])
        assert [c.name for c in found] == [person["name"]]
        assert [c.name for c in customer_search(email=person["email"].upper())] == [person["name"]]
    assert Customer.objects.count() == CUSTOMERS
