"""API request bodies are read as every channel's are: strictly, bounded, refused as a 400."""

from __future__ import annotations

import pytest

from bankdesk.tickets.models import Case

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "body",
    [
        b'{"subject": "\xe6\x8c\x82\xe5\xa4\xb1", "subject": "x", "channel": "phone"}',
        b'{"subject": "x", "channel": "phone", "priority": NaN}',
        b'{"subject": "x", "channel": "phone", "tags": ' + b"[" * 5_000 + b"]" * 5_000 + b"}",
        b'{"subject": "\\ud800", "channel": "phone"}',
        b'{"subject": "x", "channel": "phone"}\xff',
    ],
    ids=["key-twice", "nan", "nested", "half-a-surrogate-pair", "not-utf-8"],
)
def test_a_body_json_leaves_ambiguous_is_a_400_and_creates_nothing(agent_api, body):
    response = agent_api.client.post(
        "/api/v1/cases", data=body, content_type="application/json", headers=agent_api.headers
    )

    assert response.status_code == 400, response.content
    assert response.json()["code"] == "bad_request"
    assert not Case.objects.exists()
    well_formed = agent_api.post("/cases", {"subject": "挂失", "channel": "phone"})
    assert well_formed.status_code == 201, well_formed.json_body
