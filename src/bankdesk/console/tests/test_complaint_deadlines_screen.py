"""The regulator's deadline in the complaint panel: an officer asks for an extension with a
reason, a supervisor (never the one asking) approves it from the same panel, the deadline moves
and the customer is told; a refusal says why and moves nothing."""

from __future__ import annotations

from datetime import date

import pytest
import time_machine

from bankdesk.complaints.choices import ExtensionStatus
from bankdesk.complaints.extensions import statutory_clocks
from bankdesk.complaints.models import Complaint, ComplaintExtension
from bankdesk.complaints.tests.test_statutory_deadlines import end_of, local
from bankdesk.conftest import sign_in_with_second_factor
from bankdesk.staff.choices import Role
from bankdesk.tickets.choices import Direction
from bankdesk.tickets.models import Message
from bankdesk.tickets.services import case_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(make_staff, complaint_team):
    return make_staff("officer", Role.COMPLAINT_OFFICER, teams=[complaint_team])


@pytest.fixture
def lead(make_staff, complaint_team):
    return make_staff("lead", Role.SUPERVISOR, teams=[complaint_team])


@pytest.fixture
def complaint(categories, complaint_team, customer) -> Complaint:
    with time_machine.travel(local(date(2026, 1, 20), 10), tick=False):
        case = case_create(
            subject="理财产品赎回款迟迟未到账",
            channel="email",
            category=categories["complaint_fees"],
            team=complaint_team,
            customer=customer,
            actor=None,
            text="我要投诉：赎回款十天未到账。",
        )
    return Complaint.objects.get(case=case)


def _post(client, complaint: Complaint, **fields: str):
    return client.post(f"/cases/{complaint.case_id}/complaint/", fields)


def test_an_extension_asked_for_and_approved_in_the_panel(client, officer, lead, complaint):
    (clock,) = statutory_clocks(complaint)
    with time_machine.travel(local(date(2026, 1, 28), 9), tick=True):
        sign_in_with_second_factor(client, officer)
        page = client.get(f"/cases/{complaint.case_id}/").content.decode()
        assert "监管 15 日处理决定" in page and "2026-02-05 00:00" in page
        assert "申请延长至 30 日" in page

        refused = _post(client, complaint, step="extension_requested", clock=str(clock.pk))
        assert refused.status_code == 400  # no reason given
        assert not ComplaintExtension.objects.exists()
        asked = _post(
            client,
            complaint,
            step="extension_requested",
            clock=str(clock.pk),
            reason="需向合作基金公司调取赎回流水",
        )
        assert asked.status_code == 302
        extension = ComplaintExtension.objects.get()
        # The officer cannot approve their own request: no button, and a POST is refused.
        page = client.get(f"/cases/{complaint.case_id}/").content.decode()
        assert "待审批" in page and "批准并告知客户" not in page
        assert (
            _post(
                client,
                complaint,
                step="extension_decided",
                extension=str(extension.pk),
                decision="approve",
            ).status_code
            == 403
        )
        assert statutory_clocks(complaint)[0].due_at == end_of(date(2026, 2, 4))

        client.logout()
        sign_in_with_second_factor(client, lead)
        page = client.get(f"/cases/{complaint.case_id}/").content.decode()
        assert "批准并告知客户" in page
        approved = _post(
            client,
            complaint,
            step="extension_decided",
            extension=str(extension.pk),
            decision="approve",
        )
        assert approved.status_code == 302
        page = client.get(f"/cases/{complaint.case_id}/").content.decode()
        assert "2026-02-25 00:00" in page and "已告知客户" in page
    extension.refresh_from_db()
    assert extension.status == ExtensionStatus.APPROVED
    assert statutory_clocks(complaint)[0].due_at == end_of(date(2026, 2, 24))
    notice = Message.objects.filter(case=complaint.case, direction=Direction.OUTBOUND).get()
    assert "30" in notice.text and complaint.case.number in notice.text


def test_a_refusal_without_a_reason_is_refused_and_moves_nothing(client, officer, lead, complaint):
    (clock,) = statutory_clocks(complaint)
    with time_machine.travel(local(date(2026, 1, 28), 9), tick=True):
        sign_in_with_second_factor(client, officer)
        _post(client, complaint, step="extension_requested", clock=str(clock.pk), reason="材料待补")
        extension = ComplaintExtension.objects.get()
        client.logout()
        sign_in_with_second_factor(client, lead)
        response = _post(
            client, complaint, step="extension_decided", extension=str(extension.pk),
            decision="refuse", note="",
        )  # fmt: skip
        assert response.status_code == 400
        assert ComplaintExtension.objects.get().status == ExtensionStatus.REQUESTED
        response = _post(
            client, complaint, step="extension_decided", extension=str(extension.pk),
            decision="refuse", note="可按期办结",
        )  # fmt: skip
        assert response.status_code == 302
    assert ComplaintExtension.objects.get().status == ExtensionStatus.REFUSED
    assert statutory_clocks(complaint)[0].due_at == end_of(date(2026, 2, 4))


def test_a_complaint_forwarded_by_the_regulator_is_registered_on_the_complaint_team(
    client, officer, complaint_team, customer
):
    sign_in_with_second_factor(client, officer)
    register = client.get("/complaints/").content.decode()
    assert "/complaints/new/" in register
    form = {
        "regulator_forwarded": "on",
        "channel": "email",
        "customer_number": customer.customer_number,
        "subject": "监管转办：信用卡分期手续费争议",
        "narrative": "客户向金融监管总局反映分期手续费未提前告知。",
    }
    refused = client.post("/complaints/new/", {**form, "regulator_reference": ""})
    assert refused.status_code == 400
    page = refused.content.decode()
    assert "分期手续费未提前告知" in page  # what was typed stays
    assert not Complaint.objects.exists()
    reference = {"regulator_reference": "NFRA-2026-0188"}
    unknown = client.post("/complaints/new/", {**form, **reference, "customer_number": "1"})
    assert unknown.status_code == 400 and not Complaint.objects.exists()

    done = client.post("/complaints/new/", {**form, "regulator_reference": "NFRA-2026-0188"})
    assert done.status_code == 302
    complaint = Complaint.objects.select_related("case").get()
    assert (complaint.opened_on, complaint.regulator_forwarded, complaint.regulator_reference) == (
        "regulator",
        True,
        "NFRA-2026-0188",
    )
    assert complaint.case.team == complaint_team and complaint.case.customer == customer
    (clock,) = statutory_clocks(complaint)
    assert clock.status == "running"
    assert complaint.case.number in client.get("/complaints/").content.decode()
