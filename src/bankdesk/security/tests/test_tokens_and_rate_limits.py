"""API tokens: hashed, scoped, expiring, revocable; and rate limits with Retry-After."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from bankdesk.conftest import ApiClient
from bankdesk.staff.models import ApiToken
from bankdesk.staff.services import api_token_create, api_token_revoke
from bankdesk.tickets.models import Case

pytestmark = pytest.mark.django_db


def test_only_a_digest_of_the_token_is_stored(agent):
    issued = api_token_create(user=agent)
    stored = ApiToken.objects.get()
    assert issued.secret not in repr(stored.__dict__)
    assert stored.prefix == issued.secret[:9]


def test_a_read_only_token_reads_but_does_not_write(agent):
    api = ApiClient(api_token_create(user=agent, scope="read").secret)
    assert api.get("/cases").status_code == 200
    response = api.post("/cases", {"subject": "x", "channel": "phone"})
    assert response.status_code == 403
    assert response.json_body["code"] == "token_read_only"
    assert Case.objects.count() == 0


def test_expired_and_revoked_tokens_are_refused(agent):
    expired = api_token_create(user=agent, expires_at=timezone.now() - timedelta(seconds=1))
    assert ApiClient(expired.secret).get("/cases").status_code == 401
    revoked = api_token_create(user=agent)
    api_token_revoke(token=revoked.token)
    assert ApiClient(revoked.secret).get("/cases").status_code == 401


def test_a_deactivated_member_of_staff_loses_api_access(agent):
    api = ApiClient(api_token_create(user=agent).secret)
    agent.is_active = False
    agent.save()
    assert api.get("/cases").status_code == 401


def test_the_token_command_prints_a_working_token(agent, capsys):
    call_command("token", "create", "--user", "agent", "--scope", "read", "--days", "30")
    secret = capsys.readouterr().out.strip()
    assert ApiClient(secret).get("/staff/me").json_body["username"] == "agent"
    assert ApiToken.objects.get().expires_at > timezone.now() + timedelta(days=29)


def test_a_token_over_its_limit_gets_429_with_retry_after(agent, settings):
    settings.BANKDESK_RATE_LIMIT_TOKEN = "3/60"
    from bankdesk.config.api import token_limit

    token_limit.cache_clear()
    try:
        api = ApiClient(api_token_create(user=agent).secret)
        statuses = [api.get("/cases").status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        limited = api.get("/cases")
        assert limited.json_body["code"] == "rate_limited"
        assert 1 <= int(limited["Retry-After"]) <= 61
        # Another token of the same person has its own allowance.
        assert ApiClient(api_token_create(user=agent).secret).get("/cases").status_code == 200
    finally:
        token_limit.cache_clear()


def test_an_address_over_the_public_limit_gets_429(client, settings, agent):
    settings.BANKDESK_RATE_LIMIT_PUBLIC = "2/60"  # read when this test's client starts
    statuses = []
    for _ in range(3):
        response = client.post("/", {"username": "agent", "password": "wrong"})
        statuses.append(response.status_code)
    assert statuses == [200, 200, 429]
    assert "Retry-After" in response
