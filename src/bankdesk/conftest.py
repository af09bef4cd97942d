"""The people of the bank, and clients for them, shared by every app's tests."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from bankdesk.customers.models import Customer
from bankdesk.customers.services import HoldingInput, IdentityInput, customer_create
from bankdesk.staff.choices import Role
from bankdesk.staff.models import Team, User
from bankdesk.staff.services import api_token_create, staff_create, team_create
from bankdesk.tickets.models import Category
from bankdesk.tickets.services import category_create

T = TypeVar("T")
PASSWORD = "correct horse battery staple"


def pytest_configure() -> None:
    from django.conf import settings

    # Hashing strength is not under test here; speed is worth it across hundreds of logins.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_rate_windows() -> None:
    """Each test starts with no requests counted: the database's counters roll back with the
    test, and the process's own counts must not carry over either."""
    from bankdesk.security.ratelimit import rate_windows_forget

    rate_windows_forget()


@pytest.fixture(autouse=True)
def _uploads_in_a_scratch_folder(settings: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Files a test uploads land in a folder of its own, never in BANKDESK_HOME: uploads are
    encrypted under the keys of the moment, which some tests replace."""
    settings.MEDIA_ROOT = tmp_path_factory.mktemp("uploads")


@pytest.fixture(autouse=True)
def audit_checkpoints_apart(settings: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Each test's audit checkpoints in a folder of its own: a checkpoint one test writes must
    not bind the chains of the tests after it."""
    folder = tmp_path_factory.mktemp("audit-checkpoints")
    settings.BANKDESK_AUDIT_CHECKPOINT_DIR = folder
    return folder


class ApiClient:
    """A JSON client that authenticates with a bearer token, as integrations do."""

    def __init__(self, token: str | None) -> None:
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def _call(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        kwargs: dict[str, Any] = {"headers": self.headers}
        if body is not None:
            kwargs["data"] = json.dumps(body)
            kwargs["content_type"] = "application/json"
        elif params:
            kwargs["data"] = params
        response = getattr(self.client, method)(f"/api/v1{path}", **kwargs)
        response.json_body = response.json() if response.content else None
        return response

    def get(self, path: str, **params: Any) -> Any:
        return self._call("get", path, **params)

    def post(self, path: str, body: Any = None) -> Any:
        return self._call("post", path, body if body is not None else {})

    def put(self, path: str, body: Any) -> Any:
        return self._call("put", path, body)

    def delete(self, path: str) -> Any:
        return self._call("delete", path)


@pytest.fixture
def general_team(db: None) -> Team:
    return team_create(code="general", name="综合服务组")


@pytest.fixture
def complaint_team(db: None) -> Team:
    return team_create(code="complaints", name="投诉处理组", is_complaint_team=True)


@pytest.fixture
def make_staff(db: None) -> Callable[..., User]:
    def make(username: str, role: str = Role.AGENT, teams: list[Team] | None = None) -> User:
        return staff_create(username=username, password=PASSWORD, role=role, teams=teams)

    return make


@pytest.fixture
def agent(make_staff: Callable[..., User], general_team: Team) -> User:
    return make_staff("agent", Role.AGENT, [general_team])


@pytest.fixture
def supervisor(make_staff: Callable[..., User], general_team: Team) -> User:
    return make_staff("supervisor", Role.SUPERVISOR, [general_team])


@pytest.fixture
def complaint_officer(make_staff: Callable[..., User], complaint_team: Team) -> User:
    return make_staff("complaints", Role.COMPLAINT_OFFICER, [complaint_team])


@pytest.fixture
def auditor(make_staff: Callable[..., User]) -> User:
    return make_staff("auditor", Role.AUDITOR)


@pytest.fixture
def admin_user(make_staff: Callable[..., User]) -> User:
    return make_staff("admin", Role.ADMIN)


@pytest.fixture
def api_for() -> Callable[[User], ApiClient]:
    def make(user: User) -> ApiClient:
        return ApiClient(api_token_create(user=user).secret)

    return make


@pytest.fixture
def agent_api(agent: User, api_for: Callable[[User], ApiClient]) -> ApiClient:
    return api_for(agent)


@pytest.fixture
def anonymous_api(db: None) -> ApiClient:
    return ApiClient(None)


@pytest.fixture
def customer(db: None) -> Customer:
    return customer_create(
        customer_number="6200001234",
        name="王小明",
        identities=[
            IdentityInput(kind="phone", value="138 1234 5678"),
            IdentityInput(kind="email", value="Wang.XM@Example.cn"),
        ],
        holdings=[HoldingInput(kind="card", product="借记卡", reference="CRD-0001", last4="4321")],
    )


@pytest.fixture
def categories(db: None) -> dict[str, Category]:
    cards = category_create(code="cards", name="银行卡", name_en="Cards")
    return {
        "cards": cards,
        "card_lost": category_create(
            code="card-lost", name="挂失", name_en="Lost or stolen card", parent=cards
        ),
        "complaint_fees": category_create(
            code="complaint-fees", name="收费争议", name_en="Fee dispute", is_complaint=True
        ),
    }


@pytest.fixture
def migrated_data(db: None) -> None:
    """What migrations seed — the business calendars, the complaint taxonomy, the regulators'
    statutory policies, the survey template and follow-up rules, the plan's targets, the
    segments and service plans — put
    back for a test after one that ran in a transaction emptied the tables (a no-op
    otherwise)."""
    from bankdesk.analytics.models import Target
    from bankdesk.analytics.seed import targets_seed
    from bankdesk.complaints.models import ComplaintClass
    from bankdesk.complaints.regulators import regulator_profiles_seed
    from bankdesk.complaints.taxonomy import taxonomy_seed
    from bankdesk.feedback.models import FollowUpRule, SurveyTemplate
    from bankdesk.feedback.seed import feedback_seed
    from bankdesk.personalization.models import Segment, ServicePlan
    from bankdesk.personalization.seed import personalization_seed
    from bankdesk.sla.models import SlaPolicy, SlaTarget
    from bankdesk.sla.services import calendars_seed

    calendars_seed()
    personalization_seed(Segment, ServicePlan)
    taxonomy_seed(ComplaintClass)
    regulator_profiles_seed(policy_model=SlaPolicy, target_model=SlaTarget, category_model=Category)
    feedback_seed(SurveyTemplate, FollowUpRule)
    targets_seed(Target)


@pytest.fixture
def feedback_data(db: None) -> None:
    """The survey template and follow-up rules a fresh install has (migrations seed them; a
    test after a transactional one finds them gone)."""
    from bankdesk.feedback.models import FollowUpRule, SurveyTemplate
    from bankdesk.feedback.seed import feedback_seed

    feedback_seed(SurveyTemplate, FollowUpRule)


def sign_in_with_second_factor(client: Client, user: User) -> Client:
    """Sign a member of staff in with their second factor given, as the code page leaves a
    session: a confirmed authenticator, and the session marked verified by it."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


# -- a real server and a real browser, for the screens' acceptance tests ----------------------

CHROMIUM = Path("/usr/bin/chromium")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server() -> Iterator[str]:
    """bankdesk under uvicorn in a thread, so it shares the test's database and layer (the
    test needs django_db(transaction=True) for the server's threads to see its rows)."""
    import uvicorn
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer  # type: ignore[import-untyped]

    from bankdesk.config.asgi import WEBSOCKET_MESSAGE_MAX_BYTES, application

    async_to_sync(get_channel_layer().flush)()
    port = _free_port()
    config = uvicorn.Config(
        application,
        host="127.0.0.1",
        port=port,
        lifespan="off",
        log_config=None,
        ws_max_size=WEBSOCKET_MESSAGE_MAX_BYTES,  # as `bankdesk up` serves it
    )
    uvicorn_server = uvicorn.Server(config)
    thread = threading.Thread(target=uvicorn_server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uvicorn_server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    uvicorn_server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def browser() -> Iterator[Any]:
    """Headless Debian Chromium through Playwright."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        yield chromium
        chromium.close()


class Authenticator:
    """The phone of a member of staff: it shows the current code of their confirmed device."""

    def __init__(self, user: User) -> None:
        from django_otp.plugins.otp_totp.models import TOTPDevice

        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
        self.key, self.step, self.t0, self.digits = device.bin_key, device.step, device.t0, 6

    def code(self) -> str:
        from django_otp.oath import totp

        return f"{totp(self.key, self.step, self.t0, self.digits):06d}"


def browser_sign_in(page: Any, server: str, user: User, phone: Authenticator | None = None) -> None:
    """Sign a member of staff in through the login page, as a person would: with the code
    from their authenticator when they owe a second factor."""
    page.goto(f"{server}/")
    page.fill('input[name="username"]', user.username)
    page.fill('input[name="password"]', PASSWORD)
    page.press('input[name="password"]', "Enter")
    if phone is not None:
        page.wait_for_url(f"{server}/mfa/**")
        page.fill('input[name="code"]', phone.code())
        page.press('input[name="code"]', "Enter")
    page.wait_for_url(f"{server}/home/")


def screenshot(page: Any, name: str) -> Path:
    """Save what the browser shows, for people to look at: under BANKDESK_HOME/screenshots/
    (./var by default; each CI run has its own home)."""
    folder = Path(settings.BANKDESK_HOME) / "screenshots" / "console"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def off_the_browser_thread(work: Callable[[], T]) -> T:
    """Playwright's sync API marks this thread as running an event loop, where Django refuses
    database calls; the test's own queries run on a plain thread instead."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections

    def run() -> T:
        try:
            return work()
        finally:
            # The thread ends here: its connection goes back (to PostgreSQL's pool, whose
            # connections the web server's threads need too), not left open with it.
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()


# -- the database as an attacker with a copy of it reads it -----------------------------------


@pytest.fixture
def database_dump() -> Callable[[], str]:
    """Every row of every table, as text, read the way an attacker with the database would:
    SQLite's own dump, or each PostgreSQL table's rows cast to text (through the test's own
    connection, so rows of its unfinished transaction are in it too)."""

    def dump() -> str:
        if connection.vendor == "sqlite":
            return "\n".join(connection.connection.iterdump())
        lines: list[str] = []
        with connection.cursor() as cursor:
            for table in connection.introspection.table_names(cursor):
                cursor.execute(f"SELECT t::text FROM {connection.ops.quote_name(table)} t")  # noqa: S608
                lines.extend(row[0] for row in cursor.fetchall())
        return "\n".join(lines)

    return dump


# -- mail servers on loopback, for e-mail intake and replies -----------------------------------


@pytest.fixture
def smtp_receiver() -> Iterator[Any]:
    """bankdesk's own SMTP receiver, listening on a free loopback port."""
    from bankdesk.intake.channels.email.receiver import smtp_receiver_start

    running = smtp_receiver_start(f"127.0.0.1:{_free_port()}")
    yield running
    running.stop()


@pytest.fixture
def relay() -> Iterator[Any]:
    """The bank's mail relay, as bankdesk's replies reach it: a sink that keeps every mail."""
    from aiosmtpd.controller import Controller
    from django.test import override_settings

    from bankdesk.intake.tests.mail_servers import Sink

    sink = Sink()
    port = _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    with override_settings(BANKDESK_SMTP_RELAY=f"127.0.0.1:{port}"):
        yield sink
    controller.stop()
