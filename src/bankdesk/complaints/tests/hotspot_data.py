"""A complaint register with known hotspots, built through the services as the bank would:
complaints received in the first half of 2024 (the previous period) and from April to June
(the period looked at), classified by an officer.

Hand counts, April–June against January–March:
  credit cards / charges taken twice / WeChat / 城东支行   6 against 1 (a rising hotspot)
  mortgages / interest / e-mail / no branch                3 against 4
  debit cards / failed transactions / phone / 城西支行      2 against 1
  not classified / web chat                                1 against 0
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.utils import timezone

from bankdesk.complaints.hotspots import Period
from bankdesk.complaints.models import Complaint, ComplaintClass
from bankdesk.complaints.services import complaint_classify
from bankdesk.staff.models import Branch, User
from bankdesk.staff.services import branch_create
from bankdesk.tickets.services import case_create

PERIOD = Period.of_dates(date(2024, 4, 1), date(2024, 7, 1))

ANNUAL_FEE = [
    "信用卡年费被重复扣收了两次，请退还重复扣收的年费",
    "我的信用卡年费重复扣收，客服说会退还但一直没有退还",
    "年费重复扣收，信用卡账单上有两笔年费",
    "信用卡年费扣了两次，要求退还重复扣收的年费",
    "为什么信用卡年费重复扣收？请尽快退还年费",
    "信用卡账单显示年费重复扣收，要求退还",
    "年费被扣收两次，信用卡中心不处理",
]
ESCROW = [
    "My mortgage escrow payment was applied late and the escrow account shows a shortage",
    "The escrow analysis on my mortgage is wrong and the monthly payment went up",
    "Mortgage servicer did not apply my escrow payment and charged late fees",
    "Escrow shortage on my mortgage after the servicer paid the insurance twice",
    "My mortgage payment increased because of an escrow error by the servicer",
    "The servicer misapplied my mortgage payment to escrow instead of principal",
    "Escrow refund for my mortgage was never sent after the loan was paid off",
]


def node(kind: str, code: str) -> ComplaintClass:
    """A seeded taxonomy node (its code is `<kind>-<code>`)."""
    return ComplaintClass.objects.get(code=f"{kind}-{code}")


def complaint_received(
    *,
    at: datetime,
    officer: User,
    text: str,
    channel: str,
    product: str | None = None,
    issue: str | None = None,
    cause: str | None = None,
    branch: Branch | None = None,
) -> Complaint:
    case = case_create(
        subject=text[:40],
        channel=channel,
        actor=None,
        text=text,
        created_at=at,
        branch=branch,
        is_complaint=True,
    )
    complaint = Complaint.objects.get(case=case)
    if product or issue or cause:
        complaint = complaint_classify(
            complaint=complaint,
            product=node("product", product) if product else None,
            issue=node("issue", issue) if issue else None,
            cause=node("cause", cause) if cause else None,
            actor=officer,
        )
    return complaint


def day(month: int, day_of_month: int, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime(2024, month, day_of_month, hour))


def register_with_hotspots(officer: User) -> dict[str, Branch]:
    """The register of the module docstring; its two branches."""
    east = branch_create(code="east", name="城东支行")
    west = branch_create(code="west", name="城西支行")
    fee = {"product": "cards-credit", "issue": "fees-unexpected", "cause": "systems"}
    for n, text in enumerate(ANNUAL_FEE[:6]):
        complaint_received(at=day(4, 2 + n * 5), officer=officer, text=text, channel="wechat",
                           branch=east, **fee)  # fmt: skip
    complaint_received(at=day(2, 10), officer=officer, text=ANNUAL_FEE[6], channel="wechat",
                       branch=east, **fee)  # fmt: skip
    escrow = {"product": "loans-mortgage", "issue": "fees-interest", "cause": "process"}
    for n, text in enumerate(ESCROW[:3]):
        complaint_received(at=day(5, 3 + n), officer=officer, text=text, channel="email",
                           **escrow)  # fmt: skip
    for n, text in enumerate(ESCROW[3:]):
        complaint_received(at=day(1, 5 + n), officer=officer, text=text, channel="email",
                           **escrow)  # fmt: skip
    failed = {"product": "cards-debit", "issue": "transactions-failed"}
    for at in (day(6, 1), day(6, 29, 23)):
        complaint_received(at=at, officer=officer, text="借记卡取款失败但是扣款了",
                           channel="phone", branch=west, **failed)  # fmt: skip
    complaint_received(at=day(3, 31, 23), officer=officer, text="借记卡转账失败",
                       channel="phone", branch=west, **failed)  # fmt: skip
    complaint_received(at=day(6, 30, 23), officer=officer, text="客服态度很差",
                       channel="web_chat")  # fmt: skip
    # Outside both periods: counted by neither.
    complaint_received(at=day(7, 1, 0) + timedelta(minutes=1), officer=officer,
                       text="年费重复扣收", channel="wechat", **fee)  # fmt: skip
    return {"east": east, "west": west}
