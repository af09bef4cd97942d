"""Reply tokens: signed for one case and one address on its customer's file, checked afresh."""

from __future__ import annotations

import pytest
from django.test import override_settings

from bankdesk.customers.models import Customer, Identity
from bankdesk.customers.normalise import identity_blind_index
from bankdesk.intake.reply_tokens import reply_token_case, reply_token_issue, reply_token_number
from bankdesk.tickets.models import Case
from bankdesk.tickets.services import case_create

pytestmark = pytest.mark.django_db


def _case(customer: Customer) -> Case:
    return case_create(subject="年费", channel="email", actor=None, customer=customer, text="x")


def _token(case: Case, address: str = "wang.xm@example.cn") -> str:
    return reply_token_issue(case=case, recipient_lookup=identity_blind_index("email", address))


def test_a_token_names_its_case_and_proves_it(customer: Customer) -> None:
    case = _case(customer)
    token = _token(case)

    assert reply_token_number(token) == case.number
    assert len(token) == len(case.number) + 1 + 16
    assert reply_token_case(token) == case


def test_a_token_for_another_case_or_address_proves_nothing(customer: Customer) -> None:
    case, other = _case(customer), _case(customer)
    borrowed = other.number + _token(case)[len(case.number) :]

    assert reply_token_case(borrowed) is None
    assert reply_token_case(_token(case, "someone@else.example")) is None
    assert reply_token_case("C20260000001.not-a-token") is None


def test_an_address_taken_off_the_customers_file_takes_its_tokens_with_it(
    customer: Customer,
) -> None:
    case = _case(customer)
    token = _token(case)

    Identity.objects.filter(customer=customer, kind="email").delete()

    assert reply_token_case(token) is None


def test_tokens_signed_before_a_key_rotation_still_prove_their_case(customer: Customer) -> None:
    case = _case(customer)
    with override_settings(SECRET_KEY="the-old-secret-key-" + "x" * 40):
        token = _token(case)

    with override_settings(SECRET_KEY_FALLBACKS=[]):
        assert reply_token_case(token) is None
    with override_settings(SECRET_KEY_FALLBACKS=["the-old-secret-key-" + "x" * 40]):
        assert reply_token_case(token) == case
