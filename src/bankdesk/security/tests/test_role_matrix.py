"""Every API operation against every role: the answer, and nothing changed when it is no.

Scope in this test: the case is a complaint in the general team, assigned to nobody.
- agent (general team) works it; agent (cards team) cannot see it; a read-only token reads only;
- supervisor (general team) works and assigns it; complaint officer sees it as a complaint;
- auditor reads everything and changes nothing; admin sees no customers or cases by default.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from bankdesk.conftest import ApiClient
from bankdesk.knowledge.services import article_create, version_draft, version_submit
from bankdesk.security.models import RateCounter
from bankdesk.sla.models import SlaAlert
from bankdesk.sla.services import EscalationSpec, TargetSpec, sla_policy_create
from bankdesk.sla.sweep import sla_sweep
from bankdesk.sla.tasks import sla_firings_run
from bankdesk.staff.choices import Role
from bankdesk.staff.models import ApiToken
from bankdesk.staff.role_changes import role_change_request
from bankdesk.staff.services import api_token_create, team_create
from bankdesk.tickets.attachments import attachment_add
from bankdesk.tickets.routing_rules import routing_rule_create
from bankdesk.tickets.services import case_create

ROLES = [
    "agent",
    "agent_other_team",
    "read_only_token",
    "supervisor",
    "complaint_officer",
    "auditor",
    "admin",
    "anonymous",
]
WORKERS = {"agent", "supervisor", "complaint_officer"}
SEES_CASE = WORKERS | {"auditor", "read_only_token"}
SEES_CUSTOMERS = WORKERS | {"auditor", "read_only_token", "agent_other_team"}


def _read(role: str, sees: set[str], ok: int = 200) -> int:
    return ok if role in sees else 404


def _write(role: str, ok: int) -> int:
    """Writes on the case: workers in scope succeed; readers in scope get 403; others 404."""
    if role in WORKERS:
        return ok
    if role in {"auditor", "read_only_token"}:
        return 403
    return 404


def _create(role: str, ok: int = 201) -> int:
    return ok if role in WORKERS | {"agent_other_team"} else 403


Operation = tuple[str, str, Callable[[dict[str, Any]], dict[str, Any] | None], Callable[[str], int]]


class ByRole(str):
    """A schema path whose one parameter names different objects of the world by operation
    (a draft to submit, a version in review to publish)."""

    template: str

    def __new__(cls, path: str, template: str) -> ByRole:
        made = super().__new__(cls, path)
        made.template = template
        return made

    def format(self, *args: Any, **kwargs: Any) -> str:
        return self.template.format(*args, **kwargs)


class FixedUrl(str):
    """A schema path whose parameters the world does not provide: it formats to one fixed URL."""

    url: str

    def __new__(cls, path: str, url: str) -> FixedUrl:
        made = super().__new__(cls, path)
        made.url = url
        return made

    def format(self, *args: Any, **kwargs: Any) -> str:
        return self.url


OPERATIONS: list[Operation] = [
    ("get", "/api/v1/staff/me", lambda w: None, lambda r: 200),
    (
        "put",
        "/api/v1/staff/me/presence",
        lambda w: {"presence": "available"},
        lambda r: 403 if r == "read_only_token" else 200,
    ),
    ("get", "/api/v1/staff/teams", lambda w: None, lambda r: 200),
    # Role changes: administrators ask and decide (never their own request); auditors read.
    (
        "get",
        "/api/v1/staff/role-changes",
        lambda w: None,
        lambda r: 200 if r in {"admin", "auditor"} else 403,
    ),
    (
        "post",
        "/api/v1/staff/role-changes",
        lambda w: {"user_id": w["users"]["auditor"].pk, "role": "supervisor", "reason": "调岗"},
        lambda r: 201 if r == "admin" else 403,
    ),
    (
        "post",
        ByRole(
            "/api/v1/staff/role-changes/{change_id}/approve",
            "/api/v1/staff/role-changes/{others_change_id}/approve",
        ),
        lambda w: {"note": "已核对"},
        lambda r: 200 if r == "admin" else 403,
    ),
    (
        "post",
        ByRole(
            "/api/v1/staff/role-changes/{change_id}/reject",
            "/api/v1/staff/role-changes/{others_change_id}/reject",
        ),
        lambda w: {"note": "未见调令"},
        lambda r: 200 if r == "admin" else 403,
    ),
    (
        "post",
        ByRole(
            "/api/v1/staff/role-changes/{change_id}/withdraw",
            "/api/v1/staff/role-changes/{own_change_id}/withdraw",
        ),
        lambda w: {},
        lambda r: 200 if r == "admin" else 403,
    ),
    ("get", "/api/v1/categories", lambda w: None, lambda r: 200),
    ("get", "/api/v1/customers", lambda w: None, lambda r: 200),
    (
        "post",
        "/api/v1/customers",
        lambda w: {"customer_number": "88000001", "name": "李四"},
        _create,
    ),
    (
        "get",
        "/api/v1/customers/{customer_id}",
        lambda w: None,
        lambda r: _read(r, SEES_CUSTOMERS),
    ),
    (
        "post",
        "/api/v1/customers/{customer_id}/reveal",
        lambda w: {"field": "phone", "reason": "customer asked for a call back"},
        lambda r: (
            404
            if r == "admin"
            else (200 if r in {"supervisor", "complaint_officer", "auditor"} else 403)
        ),
    ),
    ("get", "/api/v1/cases", lambda w: None, lambda r: 200),
    ("post", "/api/v1/cases", lambda w: {"subject": "新工单", "channel": "phone"}, _create),
    ("get", "/api/v1/cases/{case_id}", lambda w: None, lambda r: _read(r, SEES_CASE)),
    (
        "post",
        "/api/v1/cases/{case_id}/status",
        lambda w: {"status": "open"},
        lambda r: _write(r, 200),
    ),
    (
        "post",
        "/api/v1/cases/{case_id}/priority",
        lambda w: {"priority": "high"},
        lambda r: _write(r, 200),
    ),
    (
        "post",
        "/api/v1/cases/{case_id}/category",
        lambda w: {"category_id": w["categories"]["cards"].pk},
        lambda r: _write(r, 200),
    ),
    (
        "post",
        "/api/v1/cases/{case_id}/assign",
        lambda w: {"assignee_id": w["users"]["supervisor"].pk},  # agents may only take cases
        lambda r: 403 if r == "agent" else _write(r, 200),
    ),
    ("get", "/api/v1/cases/{case_id}/messages", lambda w: None, lambda r: _read(r, SEES_CASE)),
    ("get", "/api/v1/cases/{case_id}/notes", lambda w: None, lambda r: _read(r, SEES_CASE)),
    (
        "post",
        "/api/v1/cases/{case_id}/notes",
        lambda w: {"text": "内部备注"},
        lambda r: _write(r, 201),
    ),
    (
        "put",
        "/api/v1/cases/{case_id}/tags",
        lambda w: {"tags": ["vip"]},
        lambda r: _write(r, 200),
    ),
    (
        "post",
        "/api/v1/cases/{case_id}/merge",
        lambda w: {"into_case_id": w["other_case"].pk},
        lambda r: _write(r, 200),
    ),
    ("get", "/api/v1/cases/{case_id}/events", lambda w: None, lambda r: _read(r, SEES_CASE)),
    (
        "post",
        "/api/v1/cases/{case_id}/messages/{message_id}/attachments",
        lambda w: {"file": SimpleUploadedFile("回单.txt", b"receipt", content_type="text/plain")},
        lambda r: _write(r, 201),
    ),
    (
        "get",
        "/api/v1/cases/{case_id}/attachments/{attachment_id}",
        lambda w: None,
        lambda r: _read(r, SEES_CASE),
    ),
    (
        "get",
        "/api/v1/routing/rules",
        lambda w: None,
        lambda r: 200 if r in {"supervisor", "auditor", "admin"} else 403,
    ),
    (
        "post",
        "/api/v1/routing/rules",
        lambda w: {"name": "兜底", "team_id": w["team"].pk},
        lambda r: 201 if r in {"supervisor", "admin"} else 403,
    ),
    (
        "post",
        "/api/v1/routing/cases/{case_id}/route",
        lambda w: None,
        lambda r: 403 if r in {"agent", "auditor", "read_only_token"} else _read(r, WORKERS),
    ),
    (
        "get",
        FixedUrl(
            "/api/v1/sla/calendars/{code}/deadline",
            "/api/v1/sla/calendars/cn-mainland/deadline?start=2026-09-30T16:00:00%2B08:00&minutes=120",
        ),
        lambda w: None,
        lambda r: 200,
    ),
    ("get", "/api/v1/sla/calendars", lambda w: None, lambda r: 200),
    ("get", "/api/v1/sla/policies", lambda w: None, lambda r: 200),
    (
        "post",
        "/api/v1/sla/policies",
        lambda w: {
            "code": "vip",
            "name": "贵宾",
            "targets": [{"name": "首次响应", "metric": "first_response", "minutes": 30}],
        },
        lambda r: 201 if r == "admin" else 403,
    ),
    (
        "get",
        "/api/v1/sla/cases/{case_id}/clocks",
        lambda w: None,
        lambda r: _read(r, SEES_CASE),
    ),
    ("get", "/api/v1/sla/alerts", lambda w: None, lambda r: 200),
    (
        "post",
        "/api/v1/sla/alerts/{alert_id}/read",
        lambda w: None,
        lambda r: {"supervisor": 200, "read_only_token": 403}.get(r, 404),
    ),
    ("get", "/api/v1/cases/{case_id}/activity", lambda w: None, lambda r: _read(r, SEES_CASE)),
    (
        "put",
        "/api/v1/cases/{case_id}/activity",
        lambda w: {"activity": "viewing"},
        lambda r: 403 if r == "read_only_token" else _read(r, SEES_CASE),
    ),
    (
        "get",
        "/api/v1/customers/{customer_id}/timeline",
        lambda w: None,
        lambda r: _read(r, SEES_CUSTOMERS),
    ),
    (
        "get",
        "/api/v1/customers/{customer_id}/assistant",
        lambda w: None,
        lambda r: _read(r, SEES_CUSTOMERS),
    ),
    (
        "post",
        "/api/v1/customers/{customer_id}/merge",
        lambda w: {"into_customer_id": w["customer"].pk, "reason": "同一人"},  # not provisional
        lambda r: {"auditor": 403, "read_only_token": 403, "admin": 404}.get(r, 422),
    ),
    ("post", "/api/v1/cases/{case_id}/reply", lambda w: {"text": "您好"}, lambda r: _write(r, 201)),
    # Sending a given-up reply again is for those who assign work. This world's message is the
    # customer's, never given up, so those past the role check meet 409 (successes:
    # intake/tests/test_outbox_failures.py).
    (
        "post",
        "/api/v1/cases/{case_id}/messages/{message_id}/delivery/retry",
        lambda w: None,
        lambda r: 403 if r == "agent" else _write(r, 409),
    ),
    (
        "delete",
        "/api/v1/cases/{case_id}/activity",
        lambda w: None,
        lambda r: 403 if r == "read_only_token" else _read(r, SEES_CASE, ok=204),
    ),
    # Intake integrations: whoever works cases records calls and branch reports. This world has
    # no call and no branch, so those past the role check meet 404 (successes: intake/tests).
    (
        "post",
        "/api/v1/intake/calls",
        lambda w: {
            "call_id": "CALL-1",
            "called": "95588",
            "started_at": "2026-10-01T09:00:00+08:00",
            "duration_seconds": 60,
        },
        _create,
    ),
    (
        "post",
        FixedUrl(
            "/api/v1/intake/calls/{call_id}/recording", "/api/v1/intake/calls/CALL-0/recording"
        ),
        lambda w: {"file": SimpleUploadedFile("0.wav", b"RIFF", content_type="audio/wav")},
        lambda r: _create(r, ok=404),
    ),
    (
        "post",
        "/api/v1/intake/branch-visits",
        lambda w: {"branch": "nowhere", "text": "存折无法补登"},
        lambda r: _create(r, ok=404),
    ),
    # Knowledge: people who serve customers write drafts; supervisors, complaint officers and
    # admins publish someone else's; everyone who deals with cases reads.
    (
        "get",
        FixedUrl("/api/v1/knowledge/search", "/api/v1/knowledge/search?q=%E5%B9%B4%E8%B4%B9"),
        lambda w: None,
        lambda r: 200,
    ),
    (
        "post",
        "/api/v1/knowledge/articles",
        lambda w: {
            "slug": "faq-new",
            "language": "zh-hans",
            "title": "新条目",
            "questions": ["怎么办"],
            "body": "这样办。",
        },
        lambda r: 201 if r in WORKERS | {"agent_other_team", "admin"} else 403,
    ),
    ("get", "/api/v1/knowledge/articles/{article_id}", lambda w: None, lambda r: 200),
    (
        "post",
        "/api/v1/knowledge/articles/{article_id}/versions",
        lambda w: {"language": "en", "title": "Annual fee", "questions": ["Why?"], "body": "…"},
        lambda r: 201 if r in WORKERS | {"agent_other_team", "admin"} else 403,
    ),
    (
        "post",
        ByRole(
            "/api/v1/knowledge/versions/{version_id}/submit",
            "/api/v1/knowledge/versions/{draft_id}/submit",
        ),
        lambda w: None,
        lambda r: 200 if r in WORKERS | {"agent_other_team", "admin"} else 403,
    ),
    (
        "post",
        ByRole(
            "/api/v1/knowledge/versions/{version_id}/publish",
            "/api/v1/knowledge/versions/{review_id}/publish",
        ),
        lambda w: {"note": "核对无误"},
        lambda r: 200 if r in {"supervisor", "complaint_officer", "admin"} else 403,
    ),
    (
        "post",
        ByRole(
            "/api/v1/knowledge/versions/{version_id}/return",
            "/api/v1/knowledge/versions/{review_id}/return",
        ),
        lambda w: {"note": "请补充办理渠道"},
        lambda r: 200 if r in {"supervisor", "complaint_officer", "admin"} else 403,
    ),
    ("get", "/api/v1/cases/{case_id}/knowledge", lambda w: None, lambda r: _read(r, SEES_CASE)),
    # The assistant: people who serve customers (and their integrations) converse; admins
    # teach and train it; auditors and admins read its models; supervisors too how it does.
    (
        "post",
        "/api/v1/assistant/reply",
        lambda w: {"text": "年费怎么收"},
        lambda r: 200 if r in WORKERS | {"agent_other_team"} else 403,
    ),
    ("get", "/api/v1/assistant/intents", lambda w: None, lambda r: 200),
    (
        "post",
        "/api/v1/assistant/intents",
        lambda w: {
            "code": "annual_fee",
            "title_en": "Annual fee",
            "title_zh": "年费",
            "examples": ["年费怎么收", "why was I charged an annual fee"],
        },
        lambda r: 201 if r == "admin" else 403,
    ),
    (
        "post",
        FixedUrl(
            "/api/v1/assistant/intents/{code}/examples",
            "/api/v1/assistant/intents/oos/examples",
        ),
        lambda w: {"texts": ["今天股市怎么样"]},
        lambda r: 201 if r == "admin" else 403,
    ),
    (
        "get",
        "/api/v1/assistant/models",
        lambda w: None,
        lambda r: 200 if r in {"auditor", "admin"} else 403,
    ),
    ("post", "/api/v1/assistant/models", lambda w: None, lambda r: 202 if r == "admin" else 403),
    (
        "get",
        "/api/v1/assistant/figures",
        lambda w: None,
        lambda r: 200 if r in {"supervisor", "auditor", "admin"} else 403,
    ),
    # The audit log: auditors read it; the people whose actions it records do not.
    ("get", "/api/v1/audit/entries", lambda w: None, lambda r: 200 if r == "auditor" else 403),
    (
        "get",
        FixedUrl(
            "/api/v1/feedback/indicators",
            "/api/v1/feedback/indicators?since=2026-07-01T00:00:00%2B08:00"
            "&until=2026-10-01T00:00:00%2B08:00&by=team",
        ),
        lambda w: None,
        lambda r: 200 if r in {"supervisor", "complaint_officer", "auditor"} else 403,
    ),
    (
        "get",
        FixedUrl("/api/v1/kpis", "/api/v1/kpis?quarter=2026Q3&group_by=team"),
        lambda w: None,
        lambda r: 200 if r in {"supervisor", "complaint_officer", "auditor", "admin"} else 403,
    ),
    (
        "get",
        FixedUrl(
            "/api/v1/kpis/{code}/cases",
            "/api/v1/kpis/resolution_rate/cases?quarter=2026Q3&part=numerator",
        ),
        lambda w: None,
        lambda r: 200 if r in {"supervisor", "complaint_officer", "auditor", "admin"} else 403,
    ),
]


def _snapshot() -> dict[str, int]:
    """Row counts of every bankdesk table except request bookkeeping (rate counters, tokens)."""
    counts = {}
    for model in apps.get_models():
        if model._meta.app_label in {"sessions", "contenttypes"} or model in {
            RateCounter,
            ApiToken,
        }:
            continue
        counts[model._meta.label] = model.objects.count()
    return counts


@pytest.fixture
def world(
    settings,
    tmp_path,
    agent,
    supervisor,
    complaint_officer,
    auditor,
    admin_user,
    make_staff,
    customer,
    categories,
    general_team,
):
    settings.MEDIA_ROOT = tmp_path
    cards_team = team_create(code="cards", name="信用卡组")
    other_agent = make_staff("agent2", Role.AGENT, [cards_team])
    # Two role changes awaiting a decision: one another administrator asked for, one the
    # matrix's administrator asked for.
    others_change = role_change_request(
        user=other_agent,
        role=Role.SUPERVISOR,
        reason="晋升",
        actor=make_staff("admin2", Role.ADMIN),
    )
    own_change = role_change_request(
        user=supervisor, role=Role.COMPLAINT_OFFICER, reason="调岗", actor=admin_user
    )
    other_case = case_create(
        subject="年费争议(重复)",
        channel="wechat",
        actor=None,
        customer=customer,
        category=categories["complaint_fees"],
        team=general_team,
    )
    routing_rule_create(
        name="投诉", team=general_team, is_complaint=True, strategy="manual", actor=None
    )
    # A service level that has already alerted the team's supervisor about the case.
    sla_policy_create(
        code="complaints",
        name="投诉",
        actor=None,
        is_complaint=True,
        targets=[
            TargetSpec(
                name="首次响应",
                metric="first_response",
                minutes=1,
                basis="calendar",
                escalations=(EscalationSpec(threshold="breach", action="notify_supervisor"),),
            )
        ],
    )
    with time_machine.travel(timezone.now() - timedelta(minutes=5)):
        case = case_create(
            subject="年费争议",
            channel="phone",
            actor=None,
            customer=customer,
            category=categories["complaint_fees"],
            team=general_team,
            text="年费扣了两次",
        )
    sla_sweep()
    sla_firings_run.call()
    alert = SlaAlert.objects.get(case=case, recipient=supervisor)
    message = case.messages.get()
    attachment = attachment_add(
        message=message,
        upload=io.BytesIO(b"statement"),
        filename="statement.txt",
        declared_type="text/plain",
        actor=None,
    )
    draft = article_create(
        slug="faq-annual-fee",
        kind="faq",
        language="zh-hans",
        title="年费",
        questions=["年费怎么收"],
        body="年费按卡种收取。",
        actor=None,
    )
    in_review = version_submit(
        version=version_draft(
            article=draft.article,
            language="en",
            title="Annual fee",
            questions=["How is the annual fee charged?"],
            body="By card type.",
            actor=None,
        ),
        actor=None,
    )
    users = {
        "agent": agent,
        "agent_other_team": other_agent,
        "read_only_token": agent,
        "supervisor": supervisor,
        "complaint_officer": complaint_officer,
        "auditor": auditor,
        "admin": admin_user,
    }
    return {
        "users": users,
        "case": case,
        "other_case": other_case,
        "customer": customer,
        "categories": categories,
        "agent": agent,
        "message": message,
        "attachment": attachment,
        "team": general_team,
        "alert": alert,
        "draft": draft,
        "in_review": in_review,
        "others_change": others_change,
        "own_change": own_change,
    }


def _client(world: dict[str, Any], role: str) -> ApiClient:
    if role == "anonymous":
        return ApiClient(None)
    scope = "read" if role == "read_only_token" else "write"
    return ApiClient(api_token_create(user=world["users"][role], scope=scope).secret)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("method", "path", "body", "expected"), OPERATIONS, ids=[f"{o[0]} {o[1]}" for o in OPERATIONS]
)
def test_role_matrix(world, role, method, path, body, expected):
    api = _client(world, role)
    url = path.format(
        case_id=world["case"].pk,
        customer_id=world["customer"].pk,
        message_id=world["message"].pk,
        attachment_id=world["attachment"].pk,
        alert_id=world["alert"].pk,
        article_id=world["draft"].article_id,
        draft_id=world["draft"].pk,
        review_id=world["in_review"].pk,
        others_change_id=world["others_change"].pk,
        own_change_id=world["own_change"].pk,
    )
    want = 401 if role == "anonymous" else expected(role)
    before = _snapshot()
    kwargs: dict[str, Any] = {"headers": api.headers}
    payload = body(world)
    if payload is not None and "file" in payload:
        kwargs.update(data=payload)  # multipart
    elif payload is not None:
        kwargs.update(data=json.dumps(payload), content_type="application/json")
    response = getattr(Client(), method)(url, **kwargs)
    assert response.status_code == want, response.content
    if want >= 400:
        assert _snapshot() == before
        assert set(response.json()) == {"code", "message", "field"}


@pytest.mark.django_db
def test_the_matrix_covers_every_operation_in_the_schema(client):
    schema = client.get("/api/v1/openapi.json").json()
    documented = {(method, path) for path, ops in schema["paths"].items() for method in ops}
    covered = {(method, path) for method, path, _body, _expected in OPERATIONS}
    assert documented == covered
