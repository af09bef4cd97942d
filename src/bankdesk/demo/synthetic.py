"""`demo_generate`: a synthetic customer base and a year of its cases, loaded fast.

Rows are generated as plain tuples in batches with ids chosen up front and loaded with one
bulk call per table per batch (see bulk.py); each batch is its own transaction, so an
interrupted run leaves whole cases behind, never half of one, and each batch is one entry per
table in the audit chain. Case numbers come from the per-year counters, as `case_number_next`
takes them: inside the batch's transaction on SQLite; on PostgreSQL, where batches load over
several connections at once (see pool.py), in a short transaction of their own just before.

Meant for demo and benchmark databases: run it while nothing else writes to the same tables.
"""

from __future__ import annotations

import bisect
import itertools
import random
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Model
from django.utils import timezone
from tqdm import tqdm

from bankdesk.complaints.backfill import complaint_records_backfill
from bankdesk.complaints.models import Complaint
from bankdesk.customers.choices import Segment
from bankdesk.customers.models import Customer, Holding, Identity
from bankdesk.customers.normalise import holding_reference_blind_index, identity_blind_index
from bankdesk.demo import wording
from bankdesk.demo.behaviour import HOUR_WEIGHTS, WEEKDAY_WEIGHTS, segment_multiplier
from bankdesk.demo.bulk import BulkTable, BulkWriter, existing_values
from bankdesk.demo.context import (
    CASE_FIELDS,
    CONVERSATION_FIELDS,
    EVENT_FIELDS,
    MESSAGE_FIELDS,
    CaseContext,
    CaseRows,
    CategoryPlan,
)
from bankdesk.demo.errors import DemoBaseMissing, InvalidDemoSize
from bankdesk.demo.feedback import demo_feedback_history
from bankdesk.demo.lifecycle import CaseBuilder
from bankdesk.demo.people import (
    CUSTOMER_FIELDS,
    HOLDING_FIELDS,
    IDENTITY_FIELDS,
    CustomerFactory,
    CustomerProfile,
)
from bankdesk.demo.personal import demo_personal_history
from bankdesk.demo.pool import LoadPool
from bankdesk.demo.service_history import demo_service_history
from bankdesk.demo.taxonomy import LEAVES, PROFILE_ENQUIRY, TAXONOMY, TEAM_ENGLISH, TEAM_GENERAL
from bankdesk.security.audit import audit_record
from bankdesk.sla.services import sla_clocks_recompute
from bankdesk.staff.choices import Role
from bankdesk.staff.models import Team, User
from bankdesk.tickets.models import (
    Case,
    CaseEvent,
    CaseNumberSequence,
    Category,
    Conversation,
    Message,
)
from bankdesk.tickets.numbering import case_number_format

MAX_CUSTOMERS = 10_000_000
MAX_CASES = 50_000_000
CUSTOMER_BATCH = 10_000
CASE_BATCH = 5_000
# PostgreSQL loads with this many connections at once (one backend process per core here).
LOAD_WORKERS = 2
_HOUR = 3_600
_WINDOW_DAYS = 365


@dataclass(frozen=True)
class DemoReport:
    """How many rows a run added, table by table."""

    customers: int
    identities: int
    holdings: int
    cases: int
    conversations: int
    messages: int
    events: int
    follow_ups: int = 0
    survey_answers: int = 0


def _context(now: int, writer: BulkWriter) -> CaseContext:
    """Read the bank's categories, teams and staff; the generator works with whatever is there."""
    teams = {team.code: team for team in Team.objects.order_by("id")}
    team_members: dict[int, tuple[list[int], list[float]]] = {}
    for team in teams.values():
        members = list(
            User.objects.filter(teams=team, is_active=True)
            .exclude(role__in=[Role.AUDITOR, Role.ADMIN])
            .order_by("id")
            .values_list("id", "role")
        )
        if members:
            weights = [0.15 if role == Role.SUPERVISOR else 1.0 for _, role in members]
            team_members[team.pk] = (
                [member_id for member_id, _ in members],
                list(itertools.accumulate(weights)),
            )
    if not team_members:
        raise DemoBaseMissing("no team has staff who can work cases; run the demo base seed first")
    group_teams = {group.code: group.team for group in TAXONOMY}
    leaves = Category.objects.filter(is_active=True, children__isnull=True).select_related("parent")
    categories: list[CategoryPlan] = []
    for category in leaves.order_by("id"):
        known = LEAVES.get(category.code)
        parent_code = category.parent.code if category.parent else ""
        team_code = known[0].team if known else group_teams.get(parent_code, TEAM_GENERAL)
        category_team = teams.get(team_code)
        categories.append(
            CategoryPlan(
                id=category.pk,
                code=category.code,
                name=category.name,
                name_en=category.name_en,
                is_complaint=category.is_complaint,
                profile=known[1].profile if known else PROFILE_ENQUIRY,
                weight=known[1].weight if known else 1.0,
                subjects=wording.SUBJECTS.get(category.code, wording.FALLBACK_SUBJECT),
                team_id=category_team.pk if category_team else None,
            )
        )
    if not categories:
        raise DemoBaseMissing("there are no active case categories; run the demo base seed first")
    category_weights = {
        str(segment): list(
            itertools.accumulate(
                plan.weight
                * segment_multiplier(
                    segment, LEAVES[plan.code][0].code if plan.code in LEAVES else "", plan.code
                )
                for plan in categories
            )
        )
        for segment in Segment.values
    }
    complaint_team = next((t for t in teams.values() if t.is_complaint_team), None)
    general = teams.get(TEAM_GENERAL)
    english = teams.get(TEAM_ENGLISH)
    return CaseContext(
        now=now,
        categories=categories,
        category_weights=category_weights,
        team_members=team_members,
        complaint_team_id=complaint_team.pk if complaint_team else None,
        foreign_language_team_id=english.pk if english else None,
        default_team_id=general.pk
        if general and general.pk in team_members
        else next(iter(team_members)),
        autoclose_days=settings.BANKDESK_AUTOCLOSE_DAYS,
        format_time=writer.timestamps,
        year_of=_year_finder(now),
    )


def _year_finder(now: int) -> Callable[[int], int]:
    """The bank-local calendar year of a moment, as case numbers use it."""
    zone = ZoneInfo(settings.TIME_ZONE)
    this_year = datetime.fromtimestamp(now, tz=zone).year
    years = list(range(this_year - 3, this_year + 2))
    starts = [int(datetime(year, 1, 1, tzinfo=zone).timestamp()) for year in years]

    def year_of(seconds: int) -> int:
        return years[bisect.bisect_right(starts, seconds) - 1]

    return year_of


def case_opening_times(rng: random.Random, count: int, now: int) -> list[int]:
    """`count` sorted moments over the past year, shaped by weekday, hour and slow growth."""
    zone = ZoneInfo(settings.TIME_ZONE)
    last_slot = now - now % _HOUR
    slots = [last_slot - hours * _HOUR for hours in range(_WINDOW_DAYS * 24 - 1, -1, -1)]
    weights = []
    for index, start in enumerate(slots):
        local = datetime.fromtimestamp(start, tz=zone)
        growth = 0.85 + 0.3 * index / len(slots)
        weights.append(WEEKDAY_WEIGHTS[local.weekday()] * HOUR_WEIGHTS[local.hour] * growth)
    chosen = rng.choices(slots, cum_weights=list(itertools.accumulate(weights)), k=count)
    # The current hour has only partly happened: nothing may open after now.
    times = [min(start + rng.randrange(_HOUR), now - 1) for start in chosen]
    times.sort()
    return times


def _allocate_numbers(years: list[int]) -> Iterator[str]:
    """Take case numbers from the per-year counters; call inside the batch's transaction."""
    blocks: dict[int, Iterator[int]] = {}
    for year, count in sorted(Counter(years).items()):
        CaseNumberSequence.objects.get_or_create(year=year)
        CaseNumberSequence.objects.filter(year=year).update(last_value=F("last_value") + count)
        last = CaseNumberSequence.objects.values_list("last_value", flat=True).get(year=year)
        blocks[year] = iter(range(last - count + 1, last + 1))
    for year in years:
        yield case_number_format(year, next(blocks[year]))


def _taken(what: str, kind: str, values: list[str]) -> set[str]:
    """Which values the database already holds; each query runs on a unique index."""
    if what == "customer_number":
        return existing_values(Customer, "customer_number", values)
    if what == "holding":
        return existing_values(Holding, "reference_lookup", values, kind=kind)
    return existing_values(Identity, "lookup", values, kind=kind)


def demo_generate(
    *,
    customers: int,
    cases: int,
    seed: int,
    progress: bool,
    now: datetime | None = None,
) -> DemoReport:
    """Add `customers` synthetic customers and `cases` cases over the past year.

    Needs the demo base (teams with staff, categories). The same seed on the same database
    state and `now` gives the same rows.
    """
    if not 0 <= customers <= MAX_CUSTOMERS:
        raise InvalidDemoSize(
            f"customers must be between 0 and {MAX_CUSTOMERS:,}", field="customers"
        )
    if not 0 <= cases <= MAX_CASES:
        raise InvalidDemoSize(f"cases must be between 0 and {MAX_CASES:,}", field="cases")
    if cases and not customers:
        raise InvalidDemoSize(
            "cases need customers: ask for at least one customer", field="customers"
        )
    now_seconds = int((now or timezone.now()).timestamp())
    loader = _Loader(seed=seed, progress=progress)
    context = _context(now_seconds, loader.writer) if cases else None
    try:
        profiles = loader.customers(customers, now_seconds)
        if context is not None:
            loader.cases(cases, context, profiles)
    finally:
        loader.writer.reset_sequences(
            [Customer, Identity, Holding, Case, Conversation, Message, CaseEvent]
        )
    if cases:
        # The bulk load writes history, not clocks: start the open cases' clocks from it, and
        # give its complaints their records.
        sla_clocks_recompute(actor=None, reason="demo cases generated")
        complaint_records_backfill(Complaint, Case)
        # And the follow-up calls and surveys after them, a year of each.
        follow_ups, answers = demo_feedback_history(seed=seed, now=now)
        # The complaints' decisions and the assistant's dialogues, for the plan's indicators.
        demo_service_history(seed=seed, now=now)
        # Fuller profiles and a year of personalised service, its plans rolled out in turn.
        demo_personal_history(seed=seed, now=now)
    else:
        follow_ups = answers = 0
    counts = loader.counts
    return DemoReport(
        customers=counts[Customer],
        identities=counts[Identity],
        holdings=counts[Holding],
        cases=counts[Case],
        conversations=counts[Conversation],
        messages=counts[Message],
        events=counts[CaseEvent],
        follow_ups=follow_ups,
        survey_answers=answers,
    )


class _Loader:
    """Generates and loads batches; one random stream for the whole run, so seeds reproduce."""

    def __init__(self, *, seed: int, progress: bool) -> None:
        self.seed = seed
        self.progress = progress
        self.rng = random.Random(seed)
        self.writer = BulkWriter()
        self.counts: Counter[type[Model]] = Counter()
        self._lock = threading.Lock()

    def _load(self, loads: Sequence[tuple[BulkTable, Sequence[Sequence[object]]]]) -> None:
        """Insert one batch into its tables; call inside the batch's transaction.

        Each table's rows become one entry in the audit chain, appended after the rows; the
        chainer links them once the batch commits.
        """
        for table, rows in loads:
            self.writer.insert(table, rows)
        for table, rows in loads:
            if not rows:
                continue
            audit_record(
                actor=None,
                action="demo.load",
                object_type=table.model._meta.label_lower,
                object_id=f"{rows[0][0]}-{rows[-1][0]}",
                fields=table.fields,
                reason=f"{len(rows)} synthetic rows from the demo generator, seed {self.seed}",
            )
        with self._lock:
            for table, rows in loads:
                self.counts[table.model] += len(rows)

    def customers(self, total: int, now: int) -> list[CustomerProfile]:
        factory = CustomerFactory(
            self.rng,
            now=now,
            format_time=self.writer.timestamps,
            format_day=self.writer.timestamps.day,
            identity_index=identity_blind_index,
            reference_index=holding_reference_blind_index,
            first_customer_id=self.writer.next_id(Customer),
            first_identity_id=self.writer.next_id(Identity),
            first_holding_id=self.writer.next_id(Holding),
        )
        tables = (
            BulkTable(Customer, CUSTOMER_FIELDS),
            BulkTable(Identity, IDENTITY_FIELDS),
            BulkTable(Holding, HOLDING_FIELDS),
        )
        profiles: list[CustomerProfile] = []
        with tqdm(total=total, unit="customer", disable=not self.progress, desc="customers") as bar:
            for start in range(0, total, CUSTOMER_BATCH):
                size = min(CUSTOMER_BATCH, total - start)
                with transaction.atomic():
                    batch = factory.batch(size, _taken)
                    self._load(
                        list(
                            zip(
                                tables,
                                (batch.customers, batch.identities, batch.holdings),
                                strict=True,
                            )
                        )
                    )
                profiles.extend(batch.profiles)
                bar.update(size)
        return profiles

    def cases(self, total: int, context: CaseContext, profiles: list[CustomerProfile]) -> None:
        rng, writer = self.rng, self.writer
        builder = CaseBuilder(
            rng,
            context,
            first_case_id=writer.next_id(Case),
            first_conversation_id=writer.next_id(Conversation),
            first_message_id=writer.next_id(Message),
            first_event_id=writer.next_id(CaseEvent),
        )
        tables = (
            BulkTable(Case, CASE_FIELDS),
            BulkTable(Conversation, CONVERSATION_FIELDS),
            BulkTable(Message, MESSAGE_FIELDS),
            BulkTable(CaseEvent, EVENT_FIELDS),
        )
        # A few customers are in touch often, most rarely.
        activity = list(itertools.accumulate(rng.lognormvariate(0.0, 1.0) for _ in profiles))
        times = case_opening_times(rng, total, context.now)

        def batches() -> Iterator[CaseRows]:
            for start in range(0, total, CASE_BATCH):
                opened = times[start : start + CASE_BATCH]
                rows = CaseRows()
                chosen = rng.choices(profiles, cum_weights=activity, k=len(opened))
                for t0, customer in zip(opened, chosen, strict=True):
                    builder.add(rows, t0, customer)
                yield rows

        def loads(rows: CaseRows) -> list[tuple[BulkTable, Sequence[Sequence[object]]]]:
            batch = (rows.cases, rows.conversations, rows.messages, rows.events)
            return list(zip(tables, batch, strict=True))

        bar = tqdm(total=total, unit="case", disable=not self.progress, desc="cases", smoothing=0.1)
        if self.writer.vendor != "postgresql" or connection.in_atomic_block:
            # One writer at a time (SQLite), or inside the caller's transaction (tests).
            with bar:
                for rows in batches():
                    with transaction.atomic():
                        _number(rows)
                        self._load(loads(rows))
                    bar.update(len(rows.cases))
            return

        def load_in_worker(rows: CaseRows) -> None:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    # Check foreign keys as each COPY ends rather than all at commit, so the
                    # workers' commits stay short.
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                self._load(loads(rows))
            with self._lock:
                bar.update(len(rows.cases))

        with bar, LoadPool(load_in_worker, workers=LOAD_WORKERS) as pool:
            for rows in batches():
                # Numbers are taken in their own short transaction, so the workers never wait on
                # the counter's row lock; a batch that then fails leaves a gap, never a duplicate.
                with transaction.atomic():
                    _number(rows)
                pool.submit(rows)


def _number(rows: CaseRows) -> None:
    for row, number in zip(rows.cases, _allocate_numbers(rows.years), strict=True):
        row[1] = number
