"""No admin screen shows a C2 or C3 value in clear: not a list, a search, a form, a read-only
field, a history entry or a delete confirmation. Full values come only from the audited reveal.

The viewer is given every permission there is, so every screen of every model is open to them:
what no screen shows such a viewer, it shows nobody.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.db import models
from django.test import Client
from django.urls import NoReverseMatch, reverse

from bankdesk.conftest import sign_in_with_second_factor
from bankdesk.customers.models import Customer, Holding, Identity
from bankdesk.customers.services import HoldingInput, IdentityInput, customer_create
from bankdesk.feedback.models import (
    FollowUp,
    FollowUpAttempt,
    Survey,
    SurveyResponse,
    SurveyTemplate,
)
from bankdesk.intake.models import ChannelEndpoint, OutboxMessage
from bankdesk.personalization.models import CustomerEvent, EventSession, Registration
from bankdesk.security.fields import EncryptedTextField
from bankdesk.staff.models import User
from bankdesk.tickets.services import case_create

pytestmark = pytest.mark.django_db

NAME = "欧阳明月"
NATIONAL_ID = "11010519491231002X"
PHONE = "13912345678"
EMAIL = "ouyang.my@example.cn"
OPENID = "oWx_9f8e7d6c5b4a"
HOLDING_REFERENCE = "ACC-7788-9911"
RECIPIENT = "mingyue.reply@example.cn"
PAYLOAD_TEXT = "您的挂失申请已受理"
ENDPOINT_SECRET = "wx-app-secret-Zq81"
FOLLOW_UP_REMARKS = "客户说年费仍被扣收两次"
# What nobody may read in the admin screens, whatever they can open there.
CLEAR_VALUES = (
    FOLLOW_UP_REMARKS,
    NAME,
    NATIONAL_ID,
    PHONE,
    EMAIL,
    OPENID,
    HOLDING_REFERENCE,
    RECIPIENT,
    PAYLOAD_TEXT,
    ENDPOINT_SECRET,
)


@pytest.fixture
def world(db: None) -> dict[type[models.Model], list[models.Model]]:
    """One row of every model holding encrypted customer data, each with known values."""
    customer = customer_create(
        customer_number="6200005678",
        name=NAME,
        identities=[
            IdentityInput(kind="phone", value=PHONE),
            IdentityInput(kind="email", value=EMAIL),
            IdentityInput(kind="national_id", value=NATIONAL_ID),
            IdentityInput(kind="wechat_openid", value=OPENID),
        ],
        holdings=[
            HoldingInput(
                kind="account", product="储蓄账户", reference=HOLDING_REFERENCE, last4="9911"
            )
        ],
    )
    case = case_create(subject="周末网点营业时间", channel="email", actor=None, customer=customer)
    endpoint = ChannelEndpoint.objects.create(
        code="mingyue-mail",
        channel="email",
        name="客服邮箱",
        secrets=json.dumps({"password": ENDPOINT_SECRET}),
    )
    outbox = OutboxMessage.objects.create(
        endpoint=endpoint,
        channel="email",
        case=case,
        recipient=RECIPIENT,
        payload=json.dumps({"text": PAYLOAD_TEXT}, ensure_ascii=False),
        last_error="the relay said no",
    )
    follow_up = FollowUp.objects.create(
        case=case,
        customer=customer,
        resolved_at=case.created_at,
        due_at=case.created_at,
        next_attempt_at=case.created_at,
        channel="email",
        remarks=FOLLOW_UP_REMARKS,
    )
    attempt = FollowUpAttempt.objects.create(
        follow_up=follow_up, outcome="no_answer", note=FOLLOW_UP_REMARKS
    )
    survey = Survey.objects.create(
        case=case,
        customer=customer,
        template=SurveyTemplate.objects.create(code="t", name="t", questions=[]),
        status="answered",
        language="zh-hans",
        channel="email",
    )
    response = SurveyResponse.objects.create(
        survey=survey, source="link", csat=2, answers=json.dumps({"comment": FOLLOW_UP_REMARKS})
    )
    session = EventSession.objects.create(
        event=CustomerEvent.objects.create(kind="course", title="防诈骗讲座"),
        starts_at=case.created_at,
        ends_at=case.created_at + timedelta(hours=2),
        place="总行",
        capacity=10,
    )
    registration = Registration.objects.create(
        session=session,
        customer=customer,
        status="attended",
        feedback_score=4,
        feedback_text=FOLLOW_UP_REMARKS,
    )
    return {
        Customer: [customer],
        Registration: [registration],
        ChannelEndpoint: [endpoint],
        OutboxMessage: [outbox],
        FollowUp: [follow_up],
        FollowUpAttempt: [attempt],
        SurveyResponse: [response],
    }


@pytest.fixture
def widest_viewer(admin_user: User) -> Client:
    """An administrator given every permission there is (as no service would grant)."""
    admin_user.user_permissions.set(Permission.objects.all())
    return sign_in_with_second_factor(Client(), admin_user)


def _encrypted_models() -> set[type[models.Model]]:
    return {
        model
        for model in apps.get_models()
        if any(isinstance(field, EncryptedTextField) for field in model._meta.concrete_fields)
    }


def _admin_pages(
    world: dict[type[models.Model], list[models.Model]],
) -> Iterator[tuple[str, str]]:
    """Every list, search, change, history and delete page of every model in the admin, with
    what the viewer typed into it (a search box shows its own query back)."""
    for model, model_admin in admin.site._registry.items():
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        changelist = reverse(f"{prefix}_changelist")
        yield changelist, ""
        if model_admin.search_fields:
            for value in (*CLEAR_VALUES, "6200005678"):
                yield f"{changelist}?q={value}", value
        objects = world.get(model) or list(model._default_manager.all()[:3])
        for obj in objects:
            for page in ("change", "history", "delete"):
                try:
                    yield reverse(f"{prefix}_{page}", args=[obj.pk]), ""
                except NoReverseMatch:
                    continue


def _clear_values_shown(url: str, response: Any, typed: str = "") -> list[str]:
    if response.status_code in {302, 403, 404}:
        return []
    assert response.status_code == 200, (url, response.status_code)
    html = response.content.decode().replace(typed, "") if typed else response.content.decode()
    return [value for value in CLEAR_VALUES if value.lower() in html.lower()]


def test_the_world_holds_every_model_with_encrypted_fields(world):
    """A new model with C2/C3 fields must join this test's world before it joins the admin."""
    shown_on_the_customers_pages = {Identity, Holding}
    assert _encrypted_models() <= set(world) | shown_on_the_customers_pages


def test_no_admin_screen_shows_a_c2_or_c3_value_in_clear(world, widest_viewer):
    pages = list(_admin_pages(world))
    assert any("/admin/intake/channelendpoint/" in url for url, _typed in pages)
    leaks = {
        url: shown
        for url, typed in pages
        if (shown := _clear_values_shown(url, widest_viewer.get(url), typed))
    }
    assert not leaks


def test_editing_a_channel_endpoints_secrets_leaves_them_out_of_its_page_and_history(
    world, widest_viewer
):
    endpoint = world[ChannelEndpoint][0]
    url = reverse("admin:intake_channelendpoint_change", args=[endpoint.pk])
    response = widest_viewer.post(
        url,
        {
            "code": endpoint.code,
            "channel": endpoint.channel,
            "name": endpoint.name,
            "is_active": "on",
            "settings": "{}",
            "new_secrets": json.dumps({"password": ENDPOINT_SECRET + "-new"}),
            "_save": "保存",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    endpoint.refresh_from_db()
    assert json.loads(endpoint.secrets)["password"] == ENDPOINT_SECRET + "-new"
    for page in (url, reverse("admin:intake_channelendpoint_history", args=[endpoint.pk])):
        assert not _clear_values_shown(page, widest_viewer.get(page)), page


def test_the_outbox_screen_names_the_case_by_number_not_by_what_the_customer_wrote(
    world, widest_viewer
):
    outbox = world[OutboxMessage][0]
    html = widest_viewer.get(reverse("admin:intake_outboxmessage_changelist")).content.decode()
    assert outbox.case.number in html
    assert outbox.case.subject not in html
