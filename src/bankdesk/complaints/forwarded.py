"""Complaints that arrive from outside the bank's channels: forwarded by a regulator (the NFRA's
letter, the CFPB's portal, the Financial Ombudsman), or written down from a letter. They open a
case as a complaint on the complaint team, with the regulator's reference, and run the
complaint clocks from the moment they are registered."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from bankdesk.complaints.models import Complaint
from bankdesk.complaints.services import Details, complaint_details_set
from bankdesk.customers.models import Customer
from bankdesk.lib.channels import Channel
from bankdesk.lib.errors import InvalidInput
from bankdesk.lib.text import clean_text, is_unusable
from bankdesk.staff.models import Team, User
from bankdesk.tickets.services import case_create

NARRATIVE_MAX = 20_000


@dataclass(frozen=True)
class Forwarded:
    subject: str
    narrative: str
    channel: str = Channel.EMAIL  # how it reached the bank
    regulator_forwarded: bool = True
    regulator_reference: str = ""
    customer: Customer | None = None


@transaction.atomic
def complaint_register(*, forwarded: Forwarded, actor: User) -> Complaint:
    """Register a complaint received outside the channels. A forwarded one needs the
    regulator's reference; the case goes to the complaint team."""
    narrative = forwarded.narrative
    if is_unusable(narrative):
        raise InvalidInput("contains characters that cannot be stored", field="narrative")
    narrative = clean_text(narrative)
    if not narrative:
        raise InvalidInput("write down what the customer complains about", field="narrative")
    if len(narrative) > NARRATIVE_MAX:
        raise InvalidInput(f"narrative is at most {NARRATIVE_MAX} characters", field="narrative")
    if forwarded.regulator_forwarded and not clean_text(forwarded.regulator_reference):
        raise InvalidInput("a forwarded complaint carries the regulator's reference",
                           field="regulator_reference")  # fmt: skip
    team = Team.objects.filter(is_complaint_team=True).order_by("pk").first()
    case = case_create(
        subject=forwarded.subject,
        channel=forwarded.channel,
        actor=actor,
        customer=forwarded.customer,
        team=team,
        text=narrative,
        is_complaint=True,
        complaint_on="regulator" if forwarded.regulator_forwarded else "created",
    )
    complaint = Complaint.objects.get(case=case)
    return complaint_details_set(
        complaint=complaint,
        details=Details(
            regulator_forwarded=forwarded.regulator_forwarded,
            regulator_reference=forwarded.regulator_reference,
        ),
        actor=actor,
    )
