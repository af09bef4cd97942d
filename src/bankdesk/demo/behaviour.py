"""How the demo bank's customers and staff behave: channel mix, waiting times, priorities.

Rough figures for a mainland retail bank's service centre, chosen so dashboards built on the
demo data look plausible (most contacts by phone, app and WeChat; complaints take days; a few
cases sit in the backlog), not measured from any real bank.
"""

from __future__ import annotations

from bankdesk.customers.choices import Segment
from bankdesk.demo.taxonomy import (
    PROFILE_COMPLAINT,
    PROFILE_ENQUIRY,
    PROFILE_INVESTIGATION,
    PROFILE_REQUEST,
    PROFILE_URGENT,
)
from bankdesk.lib.channels import Channel
from bankdesk.tickets.choices import Priority

_MINUTE, _HOUR, _DAY = 60, 3_600, 86_400

# Where the contacts come from. Phone, app, web chat and WeChat carry most of a Chinese bank's
# service load; branches, e-mail, terminals, SMS and social media much less.
CHANNEL_WEIGHTS: dict[str, dict[str, float]] = {
    "zh-hans": {
        Channel.PHONE: 30,
        Channel.APP: 18,
        Channel.WECHAT: 20,
        Channel.WEB_CHAT: 12,
        Channel.BRANCH: 6,
        Channel.EMAIL: 3,
        Channel.TERMINAL: 2,
        Channel.SMS: 2,
        Channel.SOCIAL: 2,
        Channel.ALIPAY: 3,
    },
    "zh-hant": {
        Channel.PHONE: 32,
        Channel.APP: 25,
        Channel.WEB_CHAT: 18,
        Channel.EMAIL: 8,
        Channel.BRANCH: 7,
        Channel.WECHAT: 3,
        Channel.TERMINAL: 2,
        Channel.SMS: 2,
        Channel.SOCIAL: 3,
    },
    "en": {
        Channel.EMAIL: 28,
        Channel.PHONE: 25,
        Channel.WEB_CHAT: 22,
        Channel.APP: 15,
        Channel.BRANCH: 5,
        Channel.WECHAT: 2,
        Channel.SMS: 1,
        Channel.SOCIAL: 2,
    },
}
# Staff open the case themselves on these (the call or the visit is the first contact).
STAFF_OPENED = frozenset({Channel.PHONE.value, Channel.BRANCH.value})
CHAT_LIKE = frozenset(
    {Channel.WEB_CHAT.value, Channel.APP.value, Channel.WECHAT.value, Channel.ALIPAY.value}
)
WITH_EXTERNAL_IDS = frozenset(
    {Channel.WECHAT.value, Channel.ALIPAY.value, Channel.EMAIL.value, Channel.SMS.value}
)
# Mean seconds from contact to a person picking it up, and from then to their first reply.
QUEUE_MEAN: dict[str, int] = {
    Channel.EMAIL: 3 * _HOUR,
    Channel.SMS: 30 * _MINUTE,
    Channel.SOCIAL: 1 * _HOUR,
    Channel.TERMINAL: 20 * _MINUTE,
    Channel.API: 10 * _MINUTE,
}
REPLY_MEAN: dict[str, int] = {
    Channel.PHONE: 60,
    Channel.BRANCH: 180,
    Channel.EMAIL: 4 * _HOUR,
    Channel.SMS: 30 * _MINUTE,
    Channel.SOCIAL: 1 * _HOUR,
    Channel.TERMINAL: 30 * _MINUTE,
}
PRIORITY_WEIGHTS: dict[str, dict[str, float]] = {
    PROFILE_URGENT: {Priority.URGENT: 45, Priority.HIGH: 40, Priority.NORMAL: 15},
    PROFILE_COMPLAINT: {Priority.URGENT: 5, Priority.HIGH: 45, Priority.NORMAL: 50},
    PROFILE_INVESTIGATION: {Priority.HIGH: 30, Priority.NORMAL: 65, Priority.LOW: 5},
    PROFILE_REQUEST: {Priority.HIGH: 10, Priority.NORMAL: 75, Priority.LOW: 15},
    PROFILE_ENQUIRY: {Priority.URGENT: 1, Priority.HIGH: 8, Priority.NORMAL: 76, Priority.LOW: 15},
}
PRIORITY_BUMP: dict[str, str] = {
    Priority.LOW: Priority.NORMAL,
    Priority.NORMAL: Priority.HIGH,
    Priority.HIGH: Priority.URGENT,
    Priority.URGENT: Priority.URGENT,
}
STALL_SHARE = 0.004  # cases left hanging in the backlog, whatever their age

# Per handling profile: the chance the agent waits on the customer, the chance it goes to the
# back office, the back office's mean time, and the agent's own mean working time (seconds).
HANDLING: dict[str, tuple[float, float, int, int]] = {
    PROFILE_ENQUIRY: (0.15, 0.12, 1 * _DAY, 20 * _MINUTE),
    PROFILE_URGENT: (0.05, 0.3, 2 * _DAY, 10 * _MINUTE),
    PROFILE_REQUEST: (0.45, 0.5, 2 * _DAY, 2 * _HOUR),
    PROFILE_INVESTIGATION: (0.3, 0.85, 7 * _DAY, 4 * _HOUR),
    PROFILE_COMPLAINT: (0.25, 0.8, 4 * _DAY, 6 * _HOUR),
}

# Relative contact volume by local weekday (Monday first) and hour: busy mornings and
# afternoons, an evening peak from app and WeChat users, quiet nights and weekends.
WEEKDAY_WEIGHTS = (1.15, 1.05, 1.0, 1.0, 1.05, 0.7, 0.6)
HOUR_WEIGHTS = (
    0.08, 0.05, 0.03, 0.03, 0.04, 0.08, 0.2, 0.5, 1.0, 1.5, 1.6, 1.4,
    0.9, 1.0, 1.4, 1.5, 1.4, 1.2, 0.9, 1.0, 1.1, 0.9, 0.5, 0.2,
)  # fmt: skip


def segment_multiplier(segment: str, group: str, leaf: str) -> float:
    """Firms ask about payroll and business loans, private clients about wealth."""
    if segment in {Segment.SMALL_BUSINESS, Segment.CORPORATE}:
        if leaf in {"business-loan", "payroll"}:
            return 8.0
        if leaf in {"mortgage", "mortgage-prepayment", "consumer-loan", "loan-rate-repricing"}:
            return 0.1
        return {"credit-cards": 0.4, "debit-cards": 0.3, "wealth": 0.5, "accounts": 1.5}.get(
            group, 1.0
        )
    if leaf in {"business-loan", "payroll"}:
        return 0.05
    if segment == Segment.PRIVATE_BANKING:
        if leaf == "complaint-mis-selling":
            return 3.0
        return {"wealth": 4.0, "payments": 1.5}.get(group, 1.0)
    return 1.0
