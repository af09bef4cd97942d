"""The demo bank: its seeded organisation, and synthetic cases that look like the services' own."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime, timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone
from pytest_django.fixtures import Settings

from bankdesk.customers.models import Customer, Holding, Identity
from bankdesk.customers.normalise import (
    holding_reference_blind_index,
    identity_blind_index,
    identity_lookup,
)
from bankdesk.demo.errors import DemoBaseMissing, InvalidDemoSize
from bankdesk.demo.people import cn_id_check_character
from bankdesk.demo.seed import demo_base_exists, demo_base_seed
from bankdesk.demo.synthetic import DemoReport, demo_generate
from bankdesk.security.audit import audit_verify
from bankdesk.security.crypto import is_ciphertext
from bankdesk.security.models import AuditEntry
from bankdesk.staff.choices import Role
from bankdesk.staff.models import Team, User
from bankdesk.tickets.choices import TRANSITIONS, CaseStatus, Direction, EventKind
from bankdesk.tickets.models import (
    Case,
    CaseEvent,
    CaseNumberSequence,
    Category,
    Conversation,
    Message,
)
from bankdesk.tickets.numbering import case_number_format
from bankdesk.tickets.services import case_create

pytestmark = pytest.mark.django_db

PASSWORD = "demo password for tests"
NAMED_ROLES = {
    "admin": Role.ADMIN,
    "supervisor": Role.SUPERVISOR,
    "agent": Role.AGENT,
    "complaints": Role.COMPLAINT_OFFICER,
    "auditor": Role.AUDITOR,
}


@pytest.fixture
def demo_base() -> None:
    demo_base_seed(password=PASSWORD)


@pytest.fixture
def demo_bank(demo_base: None) -> DemoReport:
    return demo_generate(customers=80, cases=400, seed=7, progress=False)


def _stored_column(model: type[Model], field: str) -> list[str]:
    """The raw text the database holds, below the model field's decryption."""
    column = model._meta.get_field(field).column
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {model._meta.db_table}")
        return [row[0] for row in cursor.fetchall()]


def _events_by_case() -> dict[int, list[CaseEvent]]:
    found: dict[int, list[CaseEvent]] = defaultdict(list)
    for event in CaseEvent.objects.order_by("case_id", "id"):
        found[event.case_id].append(event)
    return found


# --- the seeded organisation ---------------------------------------------------------------


def test_base_seed_creates_the_named_logins_with_their_roles(demo_base: None) -> None:
    users = {user.username: user for user in User.objects.filter(username__in=NAMED_ROLES)}
    assert {name: user.role for name, user in users.items()} == NAMED_ROLES
    assert all(user.check_password(PASSWORD) for user in users.values())
    assert users["admin"].is_staff
    assert not users["auditor"].teams.exists()
    assert users["complaints"].teams.get().is_complaint_team
    assert User.objects.filter(role=Role.AGENT, username__startswith="agent0").count() >= 9
    assert all(user.display_name for user in User.objects.all())


def test_base_seed_builds_a_two_level_taxonomy_with_complaint_categories(demo_base: None) -> None:
    roots = Category.objects.filter(parent=None)
    leaves = Category.objects.exclude(parent=None)
    assert roots.count() >= 8
    assert not leaves.filter(children__isnull=False).exists()
    assert all(category.name and category.name_en for category in Category.objects.all())
    complaint_leaves = leaves.filter(is_complaint=True)
    assert {"complaint-service-attitude", "complaint-mis-selling"} <= set(
        complaint_leaves.values_list("code", flat=True)
    )
    assert Team.objects.filter(is_complaint_team=True).count() == 1


def test_base_seed_is_complete_once_and_leaves_existing_people_alone(demo_base: None) -> None:
    assert demo_base_exists()
    before = (User.objects.count(), Team.objects.count(), Category.objects.count())
    demo_base_seed(password="another password entirely")
    assert (User.objects.count(), Team.objects.count(), Category.objects.count()) == before
    assert User.objects.get(username="agent").check_password(PASSWORD)


def test_an_empty_database_has_no_demo_base() -> None:
    assert not demo_base_exists()


# --- the synthetic bank --------------------------------------------------------------------


def test_generate_adds_the_requested_counts(demo_bank: DemoReport) -> None:
    assert (demo_bank.customers, demo_bank.cases) == (80, 400)
    assert Customer.objects.count() == 80
    assert Case.objects.count() == Conversation.objects.count() == 400
    assert Message.objects.count() == demo_bank.messages
    assert CaseEvent.objects.count() == demo_bank.events
    assert Identity.objects.count() == demo_bank.identities
    assert Holding.objects.count() == demo_bank.holdings
    assert Identity.objects.filter(kind="phone").values("customer").distinct().count() == 80
    assert Holding.objects.filter(kind="account").values("customer").distinct().count() == 80
    assert set(Customer.objects.values_list("preferred_language", flat=True)) >= {"zh-hans"}


def test_every_case_story_follows_the_state_machine(demo_bank: DemoReport) -> None:
    _assert_every_story_follows_the_state_machine()


def _assert_every_story_follows_the_state_machine() -> None:
    events = _events_by_case()
    for case in Case.objects.select_related("category"):
        story = events[case.pk]
        assert story[0].kind == EventKind.CREATED
        times = [event.created_at for event in story]
        assert times == sorted(times), case.number
        status = CaseStatus.NEW
        for event in story:
            if event.kind == EventKind.STATUS_CHANGED:
                assert event.data["from"] == status, case.number
                assert event.data["to"] in TRANSITIONS[status], case.number
                assert set(event.data) == {"from", "to", "reason"}
                status = event.data["to"]
        assert status == case.status, case.number
        assert case.updated_at == story[-1].created_at
        assert case.is_complaint == case.category.is_complaint


def test_case_timestamps_agree_with_their_events(demo_bank: DemoReport) -> None:
    events = _events_by_case()
    for case in Case.objects.all():
        changes = [e for e in events[case.pk] if e.kind == EventKind.STATUS_CHANGED]
        last_resolved = next((e for e in reversed(changes) if e.data["to"] == "resolved"), None)
        if case.status == CaseStatus.CLOSED:
            assert case.closed_at == changes[-1].created_at
        else:
            assert case.closed_at is None
        if case.status in {CaseStatus.RESOLVED, CaseStatus.CLOSED}:
            assert last_resolved is not None
            assert case.resolved_at == last_resolved.created_at
        else:
            assert case.resolved_at is None
        replies = Message.objects.filter(
            case=case, direction=Direction.OUTBOUND, author__isnull=False
        ).order_by("created_at", "id")
        first = replies.first()
        assert case.first_response_at == (first.created_at if first else None)


def test_messages_and_assignments_match_their_events(demo_bank: DemoReport) -> None:
    messages = {message.pk: message for message in Message.objects.all()}
    events = _events_by_case()
    for case in Case.objects.all():
        story = events[case.pk]
        added = [e for e in story if e.kind == EventKind.MESSAGE_ADDED]
        assert added, case.number
        first = messages[added[0].data["message_id"]]
        assert first.direction == Direction.INBOUND
        assert first.created_at == case.created_at
        for event in added:
            message = messages[event.data["message_id"]]
            assert set(event.data) == {"message_id", "direction", "channel"}
            assert (message.case_id, message.direction, message.channel) == (
                case.pk,
                event.data["direction"],
                event.data["channel"],
            )
            assert message.created_at == event.created_at
            assert message.conversation.case_id == case.pk
        assignments = [e for e in story if e.kind == EventKind.ASSIGNED]
        if assignments:
            last = assignments[-1].data
            assert (last["team_id"], last["assignee_id"]) == (case.team_id, case.assignee_id)
        if case.assignee_id is not None:
            assert case.assignee.teams.filter(pk=case.team_id).exists()
            assert case.assignee.role not in {Role.AUDITOR, Role.ADMIN}
    complaint_team = Team.objects.get(is_complaint_team=True)
    assert (
        not Case.objects.filter(is_complaint=True, team__isnull=False)
        .exclude(team=complaint_team)
        .exists()
    )


def test_nothing_is_dated_in_the_future(demo_bank: DemoReport) -> None:
    now = timezone.now()
    columns = {
        Case: ("created_at", "updated_at", "first_response_at", "resolved_at", "closed_at"),
        CaseEvent: ("created_at",),
        Message: ("created_at",),
        Conversation: ("created_at",),
        Customer: ("created_at", "updated_at"),
        Identity: ("created_at",),
    }
    for model, fields in columns.items():
        for field in fields:
            latest = model._default_manager.order_by(f"-{field}").values_list(field, flat=True)
            value = latest.exclude(**{f"{field}__isnull": True}).first()
            assert value is None or value <= now, (model.__name__, field)
    oldest = Case.objects.order_by("created_at").values_list("created_at", flat=True).first()
    assert oldest is not None and oldest >= now - timedelta(days=366)


def test_old_cases_are_mostly_closed_and_recent_ones_mostly_open(demo_base: None) -> None:
    demo_generate(customers=50, cases=600, seed=11, progress=False)
    month_ago = timezone.now() - timedelta(days=30)
    old = Case.objects.filter(created_at__lt=month_ago - timedelta(days=30))
    assert old.filter(status=CaseStatus.CLOSED).count() >= 0.95 * old.count()
    last_hours = Case.objects.filter(created_at__gt=timezone.now() - timedelta(days=2))
    if last_hours.count() >= 5:
        assert last_hours.exclude(status=CaseStatus.CLOSED).exists()


def test_case_numbers_are_unique_and_match_the_counter(demo_bank: DemoReport) -> None:
    numbers = list(Case.objects.values_list("number", "created_at"))
    assert len({number for number, _ in numbers}) == len(numbers)
    by_year: dict[int, list[int]] = defaultdict(list)
    for number, created_at in numbers:
        year = timezone.localtime(created_at).year
        assert re.fullmatch(rf"C{year}\d{{7}}", number)
        by_year[year].append(int(number[5:]))
    for year, values in by_year.items():
        counter = CaseNumberSequence.objects.get(year=year).last_value
        assert sorted(values) == list(range(1, counter + 1))
    assert CaseNumberSequence.objects.count() == len(by_year)


def test_case_numbers_follow_opening_order_within_a_run(demo_bank: DemoReport) -> None:
    ordered = list(Case.objects.order_by("created_at", "id").values_list("number", flat=True))
    for year in {number[1:5] for number in ordered}:
        of_year = [number for number in ordered if number[1:5] == year]
        assert of_year == sorted(of_year)


def test_identities_are_stored_as_the_services_store_them(demo_bank: DemoReport) -> None:
    identities = list(Identity.objects.order_by("id"))
    assert {identity.kind for identity in identities} >= {"phone", "email", "wechat_openid"}
    for identity in identities:
        assert identity.value == identity_lookup(identity.kind, identity.value)
        assert identity.lookup == identity_blind_index(identity.kind, identity.value)
    assert any(identity.value.startswith("+86") for identity in identities)
    # At rest the value is ciphertext, never the phone number or e-mail address itself.
    stored = _stored_column(Identity, "value")
    assert stored and all(is_ciphertext(value) for value in stored)


def test_customers_names_are_encrypted_at_rest(demo_bank: DemoReport) -> None:
    assert all(customer.name.strip() for customer in Customer.objects.all())
    assert all(is_ciphertext(value) for value in _stored_column(Customer, "name"))


def test_holdings_carry_a_core_reference_and_last_four_digits_only(demo_bank: DemoReport) -> None:
    for holding in Holding.objects.all():
        assert re.fullmatch(r"(ACC|CRD|LN)-\d{10}(-D)?", holding.reference)
        assert re.fullmatch(r"\d{4}", holding.last4)
        assert holding.reference_lookup == holding_reference_blind_index(
            holding.kind, holding.reference
        )


def test_every_load_is_in_an_intact_audit_chain(demo_bank: DemoReport) -> None:
    assert AuditEntry.objects.filter(action="demo.load", object_type="tickets.case").exists()
    assert audit_verify().is_intact


def test_id_number_check_character_is_the_national_standard() -> None:
    assert cn_id_check_character("11010519491231002") == "X"  # the standard's worked example
    assert identity_lookup("national_id", "11010519491231002x") == "11010519491231002X"


def test_a_second_run_adds_more_without_colliding(demo_bank: DemoReport) -> None:
    numbers_before = set(Case.objects.values_list("number", flat=True))
    again = demo_generate(customers=30, cases=150, seed=7, progress=False)
    assert (again.customers, again.cases) == (30, 150)
    assert Customer.objects.count() == 110
    assert Case.objects.count() == 550
    numbers_after = set(Case.objects.values_list("number", flat=True))
    assert numbers_before < numbers_after and len(numbers_after) == 550
    # The services keep working on top: ids and counters continue past the demo's.
    case = case_create(subject="演示之后的新工单", channel="phone", actor=None)
    year = timezone.localtime(case.created_at).year
    counter = CaseNumberSequence.objects.get(year=year).last_value
    assert case.number == case_number_format(year, counter)
    assert case.pk > max(Case.objects.exclude(pk=case.pk).values_list("pk", flat=True))
    assert case.events.get().kind == EventKind.CREATED


def test_the_same_seed_on_the_same_database_gives_the_same_bank(demo_base: None) -> None:
    now = timezone.now().replace(microsecond=0)

    def build() -> list[tuple[Any, ...]]:
        with transaction.atomic():
            demo_generate(customers=20, cases=60, seed=5, progress=False, now=now)
            rows = list(
                Case.objects.order_by("id").values_list(
                    "id",
                    "number",
                    "subject",
                    "status",
                    "customer__name",
                    "assignee_id",
                    "created_at",
                    "closed_at",
                )
            ) + list(CaseEvent.objects.order_by("id").values_list("id", "kind", "data"))
            transaction.set_rollback(True)
        return rows

    assert build() == build()


def test_an_explicit_now_bounds_every_case(demo_base: None) -> None:
    now = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.get_current_timezone())
    demo_generate(customers=10, cases=50, seed=1, progress=False, now=now)
    assert Case.objects.filter(updated_at__gt=now).count() == 0
    assert Case.objects.filter(created_at__lt=now - timedelta(days=366)).count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_load_outside_any_transaction_commits_batch_by_batch() -> None:
    # Outside a transaction PostgreSQL loads with several connections at once.
    demo_base_seed(password=PASSWORD)
    report = demo_generate(customers=30, cases=12_000, seed=4, progress=False)
    assert Case.objects.count() == report.cases == 12_000
    assert CaseEvent.objects.count() == report.events
    assert Message.objects.count() == report.messages
    numbers = list(Case.objects.values_list("number", flat=True))
    assert len(set(numbers)) == len(numbers)
    for sequence in CaseNumberSequence.objects.all():
        of_year = [n for n in numbers if n[1:5] == str(sequence.year)]
        assert max(of_year) == case_number_format(sequence.year, sequence.last_value)
        assert len(of_year) == sequence.last_value
    _assert_every_story_follows_the_state_machine()
    assert audit_verify().is_intact
    # The ORM and the services go on from where the load stopped.
    case = case_create(subject="加载之后", channel="app", actor=None)
    assert case.pk > report.cases


def test_cases_need_customers() -> None:
    with pytest.raises(InvalidDemoSize):
        demo_generate(customers=0, cases=10, seed=1, progress=False)
    with pytest.raises(InvalidDemoSize):
        demo_generate(customers=-1, cases=0, seed=1, progress=False)


def test_cases_need_the_demo_base() -> None:
    with pytest.raises(DemoBaseMissing):
        demo_generate(customers=5, cases=10, seed=1, progress=False)
    assert not Customer.objects.exists()


# --- the command ---------------------------------------------------------------------------


def test_demo_command_seeds_the_base_and_builds_the_bank() -> None:
    out = StringIO()
    call_command(
        "demo", customers=25, cases=90, seed=3, password=PASSWORD, no_progress=True, stdout=out
    )
    assert demo_base_exists()
    assert User.objects.get(username="supervisor").check_password(PASSWORD)
    today = Case.objects.filter(subject__startswith="【今日】").count()
    assert today == 15 and Case.objects.count() == 90 + today
    assert "25 customers" in out.getvalue() and "90 cases" in out.getvalue()
    assert "opened 15 of today's cases" in out.getvalue()
    assert re.search(r"in \d+\.\d s", out.getvalue())

    # A second run adds history; the working day is there already.
    call_command("demo", customers=5, cases=10, no_progress=True, stdout=StringIO())
    assert Case.objects.count() == 100 + today


def test_demo_command_takes_the_password_from_the_settings(settings: Settings) -> None:
    settings.BANKDESK_DEMO_PASSWORD = "password from the environment"
    out = StringIO()
    call_command("demo", customers=2, cases=3, no_progress=True, stdout=out)
    assert User.objects.get(username="agent").check_password("password from the environment")
    assert "password from the environment" not in out.getvalue()


def test_demo_command_generates_and_shows_a_password_otherwise(
    settings: Settings, tmp_path: Path
) -> None:
    settings.BANKDESK_DEMO_PASSWORD = ""
    settings.BANKDESK_HOME = tmp_path
    out = StringIO()
    call_command("demo", customers=2, cases=3, no_progress=True, stdout=out)
    shown = re.search(r"demo staff password: (\S+)", out.getvalue())
    assert shown is not None
    assert User.objects.get(username="admin").check_password(shown.group(1))
    assert (tmp_path / "demo_password").read_text().strip() == shown.group(1)
    assert (tmp_path / "demo_password").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(
    "options",
    [
        {"customers": -1},
        {"cases": -5},
        {"customers": 0, "cases": 10},
        {"seed": -1},
        {"customers": 10**9},
        {"cases": 10**10},
    ],
)
def test_demo_command_refuses_bad_sizes(options: dict[str, int]) -> None:
    arguments = {"customers": 5, "cases": 5, "seed": 1, **options}
    with pytest.raises(CommandError):
        call_command("demo", no_progress=True, stdout=StringIO(), **arguments)
    assert not User.objects.exists()
    assert not Case.objects.exists()


def test_every_complaint_of_the_demo_history_has_its_record(demo_bank: DemoReport) -> None:
    from bankdesk.complaints.models import Complaint

    complaints = Case.objects.filter(is_complaint=True)
    assert complaints.exists()
    assert not complaints.filter(complaint__isnull=True).exists()
    for record in Complaint.objects.select_related("case")[:50]:
        assert record.received_at == record.case.created_at
        finished = record.case.status in {"resolved", "closed"}
        assert (record.status == "closed") == finished
        assert (record.closed_at is not None) == finished


def test_the_year_shows_personalised_service_growing(demo_bank: DemoReport) -> None:
    from bankdesk.analytics.periods import quarter_of, quarter_period
    from bankdesk.personalization.models import (
        Membership,
        PlanAssignment,
        Registration,
        Suggestion,
    )
    from bankdesk.personalization.selectors import coverage_at

    now = timezone.now()
    assert (
        Membership.objects.filter(segment__kind="cluster").count()
        == Customer.objects.filter(is_provisional=False).count()
    )
    assert Membership.objects.filter(segment__kind="rule").exists()
    assert PlanAssignment.objects.filter(ended_at=None).exists()
    assert not PlanAssignment.objects.filter(started_at__gt=now).exists()
    outcomes = set(Suggestion.objects.values_list("status", flat=True))
    assert {"accepted", "declined", "ignored", "open"} <= outcomes
    assert not Suggestion.objects.filter(decided_at__gt=now).exists()
    # Coverage climbs as the plans roll out over the year.
    this = quarter_of(timezone.localdate())
    year, number = int(this[:4]), int(this[-1])
    quarters = [f"{year - (number - k <= 0)}Q{(number - k - 1) % 4 + 1}" for k in range(3, -1, -1)]
    values = [coverage_at(quarter_period(q).until).value or 0.0 for q in quarters]
    assert values[0] < values[-1], values
    assert Registration.objects.filter(status="attended").exists()
    assert Registration.objects.filter(status="registered", session__starts_at__gt=now).exists()
