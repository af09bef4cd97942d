"""Branch walk-ins and self-service terminals: reports from branch staff and from machines.

Branch staff record what a customer raised at the counter; a terminal (ATM, kiosk) reports a
fault a customer met, with its device id, the transaction it broke and the fault code. Either
way the case records the branch, so its clocks run on the branch's calendar.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from bankdesk.customers.errors import InvalidIdentity
from bankdesk.customers.models import Customer
from bankdesk.customers.normalise import phone_e164
from bankdesk.intake.channels.base import InboundMessage
from bankdesk.intake.services import IntakeResult, inbound_receive
from bankdesk.lib.channels import Channel
from bankdesk.lib.errors import InvalidInput
from bankdesk.staff.models import Branch


@dataclass(frozen=True)
class BranchVisit:
    branch: Branch
    text: str
    # The branch system's or terminal's own id for the report; retries with it change nothing.
    visit_id: str = ""
    device_id: str = ""
    transaction_reference: str = ""
    fault_code: str = ""
    customer: Customer | None = None
    customer_phone: str = ""


def visit_text(visit: BranchVisit) -> str:
    lines = [visit.text, "", f"Branch: {visit.branch.name} ({visit.branch.code})"]
    if visit.device_id:
        lines.append(f"Device: {visit.device_id}")
    if visit.transaction_reference:
        lines.append(f"Transaction: {visit.transaction_reference}")
    if visit.fault_code:
        lines.append(f"Fault code: {visit.fault_code}")
    return "\n".join(lines)


def branch_visit_receive(visit: BranchVisit) -> IntakeResult:
    """One walk-in or terminal report onto a case at its branch."""
    if not visit.branch.is_active:
        raise InvalidInput("this branch is closed", field="branch")
    phone = ""
    if visit.customer_phone:
        try:
            phone = phone_e164(visit.customer_phone)
        except InvalidIdentity as exc:
            raise InvalidInput(
                f"customer_phone is not a phone number: {exc.message}", field="customer_phone"
            ) from exc
    channel = Channel.TERMINAL if visit.device_id else Channel.BRANCH
    return inbound_receive(
        InboundMessage(
            channel=channel,
            external_id=visit.visit_id or uuid.uuid4().hex,
            text=visit_text(visit),
            sender_kind="phone" if phone and visit.customer is None else "",
            sender_value=phone if visit.customer is None else "",
            customer_id=visit.customer.pk if visit.customer else None,
            branch_code=visit.branch.code,
            metadata={
                "device_id": visit.device_id,
                "transaction_reference": visit.transaction_reference,
                "fault_code": visit.fault_code,
            },
        )
    )
