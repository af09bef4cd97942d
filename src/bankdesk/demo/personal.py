"""The demo bank's personalised service over its year: fuller customer profiles (years of birth,
accessibility needs, dialects, relationship managers, consents given and some withdrawn, life
events, households), service plans rolled out one after another as the year went on, the
background run each month, and the agents' decisions on the suggestions it made; so
personalised-service coverage climbs over the year on the dashboard."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from bankdesk.customers.choices import (
    AccessibilityNeed,
    ConsentPurpose,
    ConsentSource,
    Dialect,
    LifeEventKind,
    LinkKind,
    Tier,
)
from bankdesk.customers.choices import Segment as Line
from bankdesk.customers.models import Consent, Customer, CustomerLink, LifeEvent
from bankdesk.customers.profile import customers_allowing
from bankdesk.intake.choices import OutboxStatus
from bankdesk.intake.models import OutboxMessage
from bankdesk.lib.errors import BankdeskError
from bankdesk.personalization.choices import EventKind, SuggestionStatus
from bankdesk.personalization.event_links import (
    registration_link_token,
)
from bankdesk.personalization.events import (
    attendance_mark,
    event_create,
    feedback_give,
    invitations_send,
    register,
    session_add,
)
from bankdesk.personalization.models import (
    EventSession,
    Invitation,
    Registration,
    Segment,
    ServicePlan,
    Suggestion,
)
from bankdesk.personalization.refresh import personalization_refresh
from bankdesk.staff.choices import Role
from bankdesk.staff.models import User
from bankdesk.tickets.models import Case

# When each plan went live, in months before now: the bank rolled its plans out in turn.
ROLLOUT_MONTHS = {
    "elderly-friendly": 11,
    "repeat-care": 9,
    "private-rm": 7,
    "accessible": 5,
    "business-desk": 4,
    "premium-care": 2,
}
MONTHS = 12
MONTH = timedelta(days=30)
RELATIONSHIP_MANAGERS = ("agent", "supervisor")


def _profiles(rng: random.Random, customers: list[Customer], today: date) -> None:
    managers = list(User.objects.filter(username__in=RELATIONSHIP_MANAGERS).order_by("pk"))
    for customer in customers:
        older = rng.random() < 0.3
        age = rng.randint(60, 88) if older else rng.randint(22, 59)
        customer.birth_year = today.year - age
        needs = []
        if age >= 70 and rng.random() < 0.5:
            needs.append(AccessibilityNeed.ELDERLY_FRIENDLY)
        if age >= 75 and rng.random() < 0.4:
            needs.append(AccessibilityNeed.LARGE_PRINT)
        if rng.random() < 0.02:
            needs.append(AccessibilityNeed.HEARING)
        customer.accessibility = ",".join(needs)
        if older and rng.random() < 0.25:
            customer.dialect = rng.choice(Dialect.values)
        premium = customer.segment == Line.PRIVATE_BANKING or customer.tier == Tier.DIAMOND
        if managers and premium and rng.random() < 0.8:
            customer.relationship_manager = rng.choice(managers)
        # One at a time: the accessibility needs are sealed to their row.
        customer.save(
            update_fields=["birth_year", "accessibility", "dialect", "relationship_manager"]
        )


def _consent(customer: Customer, purpose: str, granted: bool, source: str, at: datetime) -> Consent:
    return Consent(
        customer=customer, purpose=purpose, granted=granted, source=source, recorded_at=at
    )


def _consents(rng: random.Random, customers: list[Customer], now: datetime) -> list[Consent]:
    """Marketing given at account opening by two in three, later withdrawn by some of them;
    data sharing given by three in ten."""
    rows = []
    for customer in customers:
        opened = min(customer.created_at, now - timedelta(days=MONTHS * 30 + 30))
        if rng.random() < 0.65:
            rows.append(
                _consent(customer, ConsentPurpose.MARKETING, True, ConsentSource.ONBOARDING, opened)
            )
            if rng.random() < 0.08:
                source = rng.choice([ConsentSource.PHONE, ConsentSource.APP])
                withdrawn = now - timedelta(days=rng.randint(5, 300))
                rows.append(_consent(customer, ConsentPurpose.MARKETING, False, source, withdrawn))
        if rng.random() < 0.3:
            rows.append(
                _consent(
                    customer, ConsentPurpose.DATA_SHARING, True, ConsentSource.ONBOARDING, opened
                )
            )
    return rows


def _life(rng: random.Random, customers: list[Customer], today: date) -> list[LifeEvent]:
    rows = []
    for customer in customers:
        age = today.year - (customer.birth_year or today.year)
        roll = rng.random()
        kind = None
        if 58 <= age <= 66 and roll < 0.3:
            kind = LifeEventKind.RETIREMENT
        elif 25 <= age <= 45 and roll < 0.06:
            kind = rng.choice([LifeEventKind.NEW_CHILD, LifeEventKind.BUSINESS_OPENED])
        elif roll < 0.03:
            kind = LifeEventKind.MOVED_HOME
        if kind is not None:
            rows.append(
                LifeEvent(
                    customer=customer,
                    kind=kind,
                    occurred_on=today - timedelta(days=rng.randint(10, 330)),
                )
            )
    return rows


def _households(rng: random.Random, customers: list[Customer]) -> list[CustomerLink]:
    people = [c for c in customers if c.segment == Line.RETAIL]
    rng.shuffle(people)
    pairs = people[: len(people) // 10 * 2]
    return [
        CustomerLink(customer=a, other=b, kind=LinkKind.SPOUSE)
        for a, b in zip(pairs[::2], pairs[1::2], strict=False)
    ]


def _decide(rng: random.Random, run_at: datetime, share: float, deciders: list[User]) -> int:
    """Agents take up (or turn down) some of the open suggestions during the month after a run."""
    decided = 0
    open_now = list(Suggestion.objects.filter(status=SuggestionStatus.OPEN, created_at=run_at))
    # An agent takes up nothing the customer's consent does not allow (as the service checks).
    marketing = customers_allowing({s.customer_id for s in open_now}, ConsentPurpose.MARKETING)
    open_now = [
        s for s in open_now if s.purpose != ConsentPurpose.MARKETING or s.customer_id in marketing
    ]
    for suggestion in open_now:
        roll = rng.random()
        if roll >= share + 0.15:
            continue  # left: it expires as ignored
        at = run_at + timedelta(days=rng.uniform(0.5, 25))
        case = (
            Case.objects.filter(customer_id=suggestion.customer_id, created_at__lte=at)
            .order_by("-created_at")
            .first()
        )
        suggestion.status = SuggestionStatus.ACCEPTED if roll < share else SuggestionStatus.DECLINED
        suggestion.decided_at = at
        suggestion.decided_by = rng.choice(deciders)
        suggestion.case = case
        suggestion.save(update_fields=["status", "decided_at", "decided_by", "case"])
        decided += 1
    return decided


@transaction.atomic
def demo_personal_history(*, seed: int, now: datetime | None = None) -> dict[str, int]:
    """Profiles, consents, life events and households for the demo's customers, then a year of
    monthly personalisation runs as the plans rolled out, with the agents' decisions."""
    rng = random.Random(seed + 17)
    now = now or timezone.now()
    today = timezone.localdate(now)
    customers = list(Customer.objects.filter(is_provisional=False, birth_year=None).order_by("pk"))
    _profiles(rng, customers, today)
    Consent.objects.bulk_create(_consents(rng, customers, now), batch_size=1000)
    LifeEvent.objects.bulk_create(_life(rng, customers, today), batch_size=1000)
    CustomerLink.objects.bulk_create(_households(rng, customers), batch_size=1000)
    deciders = list(User.objects.filter(role=Role.AGENT, is_active=True).order_by("pk")) or list(
        User.objects.filter(is_active=True).order_by("pk")[:1]
    )
    live_codes = set(ServicePlan.objects.filter(is_active=True).values_list("code", flat=True))
    decided = 0
    for months_ago in range(MONTHS, 0, -1):
        run_at = now - months_ago * MONTH
        ServicePlan.objects.filter(code__in=live_codes).update(is_active=False)
        ServicePlan.objects.filter(
            code__in=[c for c, m in ROLLOUT_MONTHS.items() if m >= months_ago and c in live_codes]
        ).update(is_active=True)
        personalization_refresh(now=run_at)
        if deciders:
            share = 0.15 + 0.3 * (MONTHS - months_ago) / MONTHS
            decided += _decide(rng, run_at, share, deciders)
    ServicePlan.objects.filter(code__in=live_codes).update(is_active=True)
    counts = personalization_refresh(now=now)
    organiser = User.objects.filter(username="supervisor").first()
    booked = _events(rng, now, organiser) if organiser is not None else 0
    return {
        "customers": len(customers),
        "memberships": counts.memberships,
        "suggestions_decided": decided,
        "bookings": booked,
    }


# (kind, 中文, English, segments, [(days from now, hours long, place, seats)])
EVENTS = (
    (
        EventKind.COURSE,
        "防范电信网络诈骗讲座",
        "Spotting phone and online fraud",
        ("seniors", "new-retirees"),
        [(-40, 2, "总行营业部三楼多功能厅", 30), (6, 2, "静安支行二楼会议室", 12)],
    ),
    (
        EventKind.COURSE,
        "老年人手机银行入门课",
        "Mobile banking for seniors: a first course",
        ("seniors", "accessibility"),
        [(-12, 2, "徐汇支行客户活动室", 15), (10, 2, "徐汇支行客户活动室", 15)],
    ),
    (
        EventKind.APPRECIATION,
        "私人银行客户年终答谢会",
        "Private banking year-end appreciation evening",
        ("private-banking", "premium"),
        [(-20, 3, "外滩私人银行中心", 40), (14, 3, "外滩私人银行中心", 40)],
    ),
)


def _events(rng: random.Random, now: datetime, organiser: User) -> int:
    """The year's customer events and courses: past sessions with their attendance and
    feedback (their messages marked sent, as history), coming ones with bookings and, where
    more wanted a seat than there were, a waitlist."""
    segments = dict(Segment.objects.values_list("code", "pk"))
    booked = 0
    for kind, title, title_en, codes, sessions in EVENTS:
        wanted = [segments[code] for code in codes if code in segments]
        if not wanted:
            continue
        event = event_create(
            kind=kind,
            title=title,
            title_en=title_en,
            description="",
            segment_ids=wanted,
            actor=organiser,
        )
        for days, hours, place, seats in sessions:
            starts = (now + timedelta(days=days)).replace(hour=6, minute=0, second=0, microsecond=0)
            invited_at = starts - timedelta(days=9)
            before = OutboxMessage.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
            session = session_add(
                event=event,
                starts_at=starts,
                ends_at=starts + timedelta(hours=hours),
                place=place,
                capacity=seats,
                actor=organiser,
                now=invited_at,
            )
            invitations_send(session=session, actor=organiser, now=invited_at)
            booked += _book(rng, session, invited_at, now, organiser)
            # The invitations went out days ago: history, not messages still to send.
            OutboxMessage.objects.filter(pk__gt=before, case=None).update(
                status=OutboxStatus.SENT, sent_at=invited_at, next_attempt_at=invited_at
            )
    return booked


def _book(
    rng: random.Random,
    session: EventSession,
    invited_at: datetime,
    now: datetime,
    organiser: User,
) -> int:
    invitations = list(Invitation.objects.filter(session=session, skipped="").order_by("pk"))
    rng.shuffle(invitations)
    # More ask than there are seats: the last ones wait.
    takers = invitations[: session.capacity + min(4, len(invitations) // 5)]
    for number, invitation in enumerate(takers):
        moment = invited_at + timedelta(hours=2 + 3 * number)
        try:
            register(invitation=invitation, now=min(moment, session.starts_at - timedelta(hours=1)))
        except BankdeskError:
            continue  # booked on an overlapping session already
    if session.starts_at < now:
        seated = list(Registration.objects.filter(session=session, status="registered"))
        came = [r.pk for r in seated if rng.random() < 0.85]
        attendance_mark(session=session, attended_ids=came, actor=organiser, now=session.ends_at)
        by_customer = {i.customer_id: i for i in Invitation.objects.filter(session=session)}
        for registration in Registration.objects.filter(pk__in=came):
            if rng.random() < 0.6:
                invitation = by_customer[registration.customer_id]
                feedback_give(
                    token=registration_link_token(invitation),
                    score=rng.choice([5, 5, 4, 4, 3]),
                    text=rng.choice(["讲得很清楚，很实用", "希望多办几场", "", "内容很好"]),
                    now=session.ends_at + timedelta(hours=3),
                )
    return Registration.objects.filter(session=session).count()
