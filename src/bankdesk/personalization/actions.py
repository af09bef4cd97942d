"""The next-best-actions bankdesk can suggest, each with the purpose the customer's consent must
allow and the test that says, from the customer's profile and segments, whether it fits now and
why. Service actions help the customer with what they have; marketing actions offer something
new and need the customer's marketing consent."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from bankdesk.customers.choices import (
    AccessibilityNeed,
    ConsentPurpose,
    HoldingKind,
    LifeEventKind,
    Tier,
)
from bankdesk.lib.channels import Channel
from bankdesk.personalization.profiles import Profile

Reason = dict[str, Any]
SENIOR_AGE = 60
PREMIUM_TIERS = (Tier.PLATINUM, Tier.DIAMOND)
WEALTH_TIERS = (Tier.GOLD, Tier.PLATINUM, Tier.DIAMOND)
WEALTH_PRODUCTS = 3
REPEAT_COMPLAINTS = 2
IN_PERSON = (Channel.PHONE, Channel.BRANCH)
LIFE_EVENT_RECENT = timedelta(days=365)


@dataclass(frozen=True)
class Action:
    code: str
    purpose: str
    title: Promise
    # What the agent does when they take it up.
    how: Promise
    fits: Callable[[Profile], list[Reason] | None]


def _senior_in_person(profile: Profile) -> list[Reason] | None:
    if profile.age is None or profile.age < SENIOR_AGE or profile.main_channel not in IN_PERSON:
        return None
    return [
        {"rule": "age_min", "value": profile.age, "limit": SENIOR_AGE},
        {
            "rule": "channels",
            "value": profile.main_channel,
            "count": profile.contacts[profile.main_channel],
            "of": profile.contact_count,
        },
    ]


def _fraud_course(profile: Profile) -> list[Reason] | None:
    if profile.age is None or profile.age < SENIOR_AGE:
        return None
    return [{"rule": "age_min", "value": profile.age, "limit": SENIOR_AGE}]


def _large_print(profile: Profile) -> list[Reason] | None:
    reading = {AccessibilityNeed.LARGE_PRINT, AccessibilityNeed.VISION}
    # The need itself stays sealed on the customer (segments.reason_text says it from there).
    return [{"rule": "accessibility"}] if reading & set(profile.accessibility) else None


def _relationship_manager(profile: Profile) -> list[Reason] | None:
    if profile.tier not in PREMIUM_TIERS or profile.has_relationship_manager:
        return None
    return [{"rule": "tiers", "value": profile.tier}, {"rule": "no_relationship_manager"}]


def _complaints_review(profile: Profile) -> list[Reason] | None:
    if profile.complaints < REPEAT_COMPLAINTS:
        return None
    return [{"rule": "complaints_min", "value": profile.complaints, "limit": REPEAT_COMPLAINTS}]


def _verify_phone(profile: Profile) -> list[Reason] | None:
    if profile.verified_phone or not profile.contact_count:
        return None
    return [{"rule": "no_verified_phone"}]


def _wealth_review(profile: Profile) -> list[Reason] | None:
    if profile.tier not in WEALTH_TIERS or profile.products < WEALTH_PRODUCTS:
        return None
    return [
        {"rule": "tiers", "value": profile.tier},
        {"rule": "products_min", "value": profile.products, "limit": WEALTH_PRODUCTS},
    ]


def _life_event(kind: str) -> Callable[[Profile], list[Reason] | None]:
    def fits(profile: Profile) -> list[Reason] | None:
        on = profile.life_events.get(kind)
        if on is None or on < profile.today - LIFE_EVENT_RECENT:
            return None  # an offer for a new retiree is not made to one retired years ago
        return [{"rule": "life_events", "value": kind, "on": str(on)}]

    return fits


def _card_upgrade(profile: Profile) -> list[Reason] | None:
    if profile.holding_kinds[HoldingKind.CARD] or profile.products < 1 or profile.complaints:
        return None
    return [{"rule": "no_card"}]


ACTIONS: tuple[Action, ...] = (
    Action(
        "digital_banking_help",
        ConsentPurpose.SERVICE,
        _("Offer help setting up mobile banking"),
        _("Offer to walk them through the app step by step, or book them a seat on a course."),
        _senior_in_person,
    ),
    Action(
        "fraud_awareness",
        ConsentPurpose.SERVICE,
        _("Share the anti-fraud tips"),
        _("Go through the three signs of a scam call and how to check a caller with the bank."),
        _fraud_course,
    ),
    Action(
        "large_print_statements",
        ConsentPurpose.SERVICE,
        _("Offer large-print statements"),
        _("Switch their statements and letters to large print if they want it."),
        _large_print,
    ),
    Action(
        "relationship_manager_intro",
        ConsentPurpose.SERVICE,
        _("Introduce a relationship manager"),
        _("Tell them who their relationship manager will be and how to reach them."),
        _relationship_manager,
    ),
    Action(
        "complaints_review",
        ConsentPurpose.SERVICE,
        _("Review their complaints with a supervisor"),
        _("Ask a supervisor to look at the complaints together and call them back."),
        _complaints_review,
    ),
    Action(
        "verify_phone",
        ConsentPurpose.SERVICE,
        _("Verify their phone number"),
        _("Confirm the phone number on file so notices and call-backs reach them."),
        _verify_phone,
    ),
    Action(
        "wealth_review",
        ConsentPurpose.MARKETING,
        _("Offer a wealth review"),
        _("Offer a meeting with a wealth adviser to review their savings and investments."),
        _wealth_review,
    ),
    Action(
        "retirement_planning",
        ConsentPurpose.MARKETING,
        _("Present retirement income products"),
        _("Present the pension savings and income products suited to a new retiree."),
        _life_event(LifeEventKind.RETIREMENT),
    ),
    Action(
        "business_account",
        ConsentPurpose.MARKETING,
        _("Offer a small-business account"),
        _("Offer a business account and the small-business desk's contact."),
        _life_event(LifeEventKind.BUSINESS_OPENED),
    ),
    Action(
        "credit_card_offer",
        ConsentPurpose.MARKETING,
        _("Offer a credit card"),
        _("Offer the standard credit card, with the fees said plainly."),
        _card_upgrade,
    ),
)
BY_CODE = {action.code: action for action in ACTIONS}
