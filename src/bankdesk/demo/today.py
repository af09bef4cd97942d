"""The demo bank's working day: routing rules that put new chats, calls and complaints on
teams, the named staff available, and a floor of open cases up to this minute — inside their
SLA, at risk and breached, assigned and waiting — so every screen has something alive on it.

The cases are written through the services, as people and channels write them, then moved to
the times their story happened; their SLA clocks are then worked out again from those events,
as for the generated history, so every deadline shown is the one the rules give.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from bankdesk.complaints.extensions import (
    complaint_extension_decide,
    complaint_extension_request,
    statutory_clocks,
)
from bankdesk.complaints.models import Complaint, ComplaintExtension
from bankdesk.customers.models import Customer
from bankdesk.demo.feedback import demo_feedback_retimed, demo_no_answer
from bankdesk.demo.taxonomy import TEAM_COMPLAINTS, TEAM_ENGLISH, TEAM_GENERAL
from bankdesk.feedback.choices import AttemptOutcome, Verdict
from bankdesk.feedback.followups import CallResult, follow_up_call_record
from bankdesk.feedback.models import FollowUp
from bankdesk.intake.choices import OutboxStatus
from bankdesk.intake.models import OutboxMessage
from bankdesk.intake.services import case_reply
from bankdesk.lib.channels import Channel
from bankdesk.lib.languages import Language
from bankdesk.sla.clocks import (
    extended_minutes,
    sla_clocks_recompute_case,
    terms_kept,
    working_time,
)
from bankdesk.sla.snapshot import sla_settings
from bankdesk.staff.choices import Presence
from bankdesk.staff.models import Team, User
from bankdesk.tickets.choices import CaseStatus, Priority
from bankdesk.tickets.macros import MacroSpec, macro_save
from bankdesk.tickets.models import (
    Case,
    CaseEvent,
    Category,
    Conversation,
    InternalNote,
    Macro,
    Message,
    RoutingRule,
)
from bankdesk.tickets.routing_rules import routing_rule_create
from bankdesk.tickets.services import (
    case_create,
    case_note_add,
    case_status_change,
    message_delivery_record,
)

AVAILABLE_LOGINS = ("agent", "supervisor", "complaints")


@dataclass(frozen=True)
class Step:
    minutes_ago: float
    act: Callable[[Case], object]


def _rules() -> int:
    """Where new work goes: complaints to the complaint team, English to the English team,
    and every other call, chat, message and letter to the general team, whose agents are
    available."""
    if RoutingRule.objects.exists():
        return 0
    teams = {team.code: team for team in Team.objects.all()}
    plan: list[tuple[str, str, dict[str, Any], int]] = [
        ("投诉 → 投诉处理组", TEAM_COMPLAINTS, {"is_complaint": True}, 10),
        ("English → 英语服务组", TEAM_ENGLISH, {"language": Language.EN}, 20),
        ("来电、在线客服、微信及其余渠道 → 综合服务组", TEAM_GENERAL, {}, 100),
    ]
    made = 0
    for name, team_code, match, position in plan:
        if team_code in teams:
            routing_rule_create(
                name=name, team=teams[team_code], actor=None, position=position, **match
            )
            made += 1
    return made


def _macros() -> int:
    if Macro.objects.exists():
        return 0
    for spec in (
        MacroSpec(
            name="已受理，正在核实",
            text_zh_hans="{customer_name}您好，您反映的问题（工单 {case_number}）已受理，"
            "我们正在核实，预计一个工作日内回复您。{agent}",
            text_zh_hant="{customer_name}您好，您反映的問題（工單 {case_number}）已受理，"
            "我們正在核實，預計一個工作日內回覆您。{agent}",
            text_en="Dear {customer_name}, we have your request (case {case_number}) and are "
            "looking into it; you will hear from us within one working day. {agent}",
            set_status=CaseStatus.PENDING_INTERNAL,
            add_tag="核实中",
            shared=True,
        ),
        MacroSpec(
            name="请补充资料",
            text_zh_hans="{customer_name}您好，为尽快处理，请提供交易截图及交易时间。{agent}",
            text_zh_hant="{customer_name}您好，為儘快處理，請提供交易截圖及交易時間。{agent}",
            text_en="Dear {customer_name}, to help us act quickly, please send a screenshot "
            "of the transaction and its time. {agent}",
            set_status=CaseStatus.PENDING_CUSTOMER,
            shared=True,
        ),
    ):
        macro_save(spec=spec, actor=None)
    return 2


def _last(model: type[CaseEvent] | type[Message] | type[InternalNote], case: Case) -> int:
    last = model.objects.filter(case=case).order_by("-pk").values_list("pk", flat=True).first()
    return int(last or 0)


def _moved(case: Case, steps: list[Step], now: datetime) -> Case:
    """Run each step, then put what it wrote at its moment."""
    events = messages = notes = 0
    latest = case.created_at
    for step in steps:
        step.act(case)
        moment = now - timedelta(minutes=step.minutes_ago)
        CaseEvent.objects.filter(case=case, pk__gt=events).update(created_at=moment)
        Message.objects.filter(case=case, pk__gt=messages).update(created_at=moment)
        InternalNote.objects.filter(case=case, pk__gt=notes).update(created_at=moment)
        events = _last(CaseEvent, case)
        messages = _last(Message, case)
        notes = _last(InternalNote, case)
        latest = moment
        case.refresh_from_db()
    start = now - timedelta(minutes=steps[0].minutes_ago) if steps else case.created_at
    first_reply = (
        Message.objects.filter(case=case, direction="outbound", author__isnull=False)
        .order_by("id")
        .values_list("created_at", flat=True)
        .first()
    )
    Case.objects.filter(pk=case.pk).update(
        created_at=start, updated_at=latest, first_response_at=first_reply
    )
    Conversation.objects.filter(case=case).update(created_at=start)
    sla_clocks_recompute_case(case_id=case.pk, dry_run=False, renew_terms=False)
    _extensions_retimed(case, latest)
    return Case.objects.get(pk=case.pk)


def _extensions_retimed(case: Case, at: datetime) -> None:
    """An extension granted in the story: at its moment, with the deadlines the moved history
    gives (before, on the target's own limit; after, the clock's)."""
    for extension in ComplaintExtension.objects.filter(complaint__case=case).select_related(
        "clock__target"
    ):
        clock = extension.clock
        clock.refresh_from_db()
        spec = sla_settings().spec(clock.calendar_id)
        before = working_time(terms_kept(clock), spec).add_business_time(
            clock.started_at, timedelta(minutes=extended_minutes(clock.target, clock.extension - 1))
        )
        ComplaintExtension.objects.filter(pk=extension.pk).update(
            requested_at=at, decided_at=at, notice_sent_at=at, due_before=before,
            due_after=clock.due_at,
        )  # fmt: skip


def demo_today_seed(*, now: datetime | None = None) -> int:
    """Add the working day to a demo bank that has its base; returns how many cases it opened
    (none when a working day is already there)."""
    now = now or timezone.now()
    with transaction.atomic():
        _rules()
        _macros()
        User.objects.filter(username__in=AVAILABLE_LOGINS).update(presence=Presence.AVAILABLE)
    staff = {user.username: user for user in User.objects.filter(username__in=AVAILABLE_LOGINS)}
    teams = {team.code: team for team in Team.objects.all()}
    if "agent" not in staff or TEAM_GENERAL not in teams:
        return 0
    if Case.objects.filter(subject__startswith="【今日】").exists():
        return 0
    agent, general = staff["agent"], teams[TEAM_GENERAL]
    complaints_team = teams.get(TEAM_COMPLAINTS)
    officer = staff.get("complaints")
    # Customers with an e-mail address: the day's replies go out by e-mail.
    customers = list(
        Customer.objects.filter(is_provisional=False, identities__kind="email")
        .distinct()
        .order_by("id")[:12]
    )
    categories = {c.code: c for c in Category.objects.all()}
    lost = categories.get("debit-card-lost")
    complaint = next((c for c in categories.values() if c.is_complaint and c.parent_id), None)

    def customer(n: int) -> Customer | None:
        return customers[n % len(customers)] if customers else None

    def opened(subject: str, n: int, channel: str, **kwargs: object) -> Callable[[], Case]:
        def make() -> Case:
            return case_create(
                subject=f"【今日】{subject}",
                channel=channel,
                actor=None,
                customer=customer(n),
                text=kwargs.pop("text", subject),  # type: ignore[arg-type]
                **kwargs,  # type: ignore[arg-type]
            )

        return make

    def reply(text: str) -> Callable[[Case], object]:
        """A reply on the case's own channel: by e-mail to a customer with an address, else
        recorded as said on the phone."""

        def send(case: Case) -> object:
            by_email = case.channel == Channel.EMAIL and case.customer_id is not None
            channel = Channel.EMAIL if by_email else Channel.PHONE
            return case_reply(case=case, text=text, actor=case.assignee or agent, channel=channel)

        return send

    def extended(asker: User, approver: User | None) -> Callable[[Case], object]:
        """The complaint team asks for the regulator's deadline to be extended; a supervisor
        approves, and the customer is told."""

        def extend(case: Case) -> object:
            record = Complaint.objects.get(case=case)
            clocks = statutory_clocks(record)
            if approver is None or not clocks:
                return None
            asked = complaint_extension_request(
                complaint=record,
                clock=clocks[0],
                reason="需境外收单机构提供交易凭证，核查周期较长",
                actor=asker,
            )
            return complaint_extension_decide(
                extension=asked, approve=True, note="同意延期", actor=approver
            )

        return extend

    def bounced(case: Case) -> None:
        """The reply's mail server refuses it: the outbox gives up, the case shows why."""
        sent = Message.objects.filter(case=case, direction="outbound").order_by("-id").first()
        if sent is not None and sent.delivery_status == "queued":
            message_delivery_record(
                message=sent, status="failed", reason="550 mailbox unavailable（收件邮箱不存在）"
            )
            OutboxMessage.objects.filter(message=sent).update(
                status=OutboxStatus.DEAD, last_error="550 mailbox unavailable"
            )

    def status(value: str) -> Callable[[Case], object]:
        return lambda case: case_status_change(case=case, status=value, actor=agent)

    stories: list[tuple[Callable[[], Case], list[Step]]] = [
        # The agent's own: on track, at risk, breached, waiting on the customer.
        (
            opened(
                "借记卡丢失，申请紧急挂失",
                0,
                Channel.PHONE,
                category=lost,
                priority=Priority.URGENT,
                team=general,
                assignee=agent,
            ),
            [Step(4, lambda case: None)],
        ),
        (
            opened("信用卡账单分期咨询", 1, Channel.EMAIL, team=general, assignee=agent),
            [Step(35, lambda case: None), Step(30, status(CaseStatus.OPEN))],
        ),
        (
            opened(
                "疑似盗刷，卡片已冻结需解冻",
                2,
                Channel.PHONE,
                category=lost,
                priority=Priority.URGENT,
                team=general,
                assignee=agent,
            ),
            [Step(50, lambda case: None)],
        ),
        (
            opened("手机银行转账限额调整", 3, Channel.EMAIL, team=general, assignee=agent),
            [
                Step(150, lambda case: None),
                Step(140, status(CaseStatus.OPEN)),
                Step(120, reply("您好，请提供您希望调整的限额及用途，我们将为您办理。")),
                Step(119, status(CaseStatus.PENDING_CUSTOMER)),
            ],
        ),
        (
            opened("对账单邮寄地址变更", 4, Channel.EMAIL, team=general, assignee=agent),
            [
                Step(25, lambda case: None),
                Step(20, reply("您好，地址变更已为您登记，新的对账单将寄往新地址。")),
                Step(19, bounced),
                Step(
                    18,
                    lambda case: case_note_add(
                        case=case, text="邮件退回，需电话联系客户确认邮箱。", actor=agent
                    ),
                ),
            ],
        ),
        # Waiting for someone: new work on the general team, one already late.
        (
            opened("网点预约开户", 5, Channel.PHONE, team=general),
            [Step(6, lambda case: None)],
        ),
        (
            opened("存款证明开具", 6, Channel.EMAIL, team=general),
            [Step(12, lambda case: None)],
        ),
        (
            opened(
                "ATM 取款未出钞但已扣款", 7, Channel.PHONE, team=general, priority=Priority.URGENT
            ),
            [Step(28, lambda case: None)],
        ),
    ]
    if complaint is not None and complaints_team is not None and officer is not None:
        stories += [
            (
                opened(
                    "投诉：理财产品销售未充分揭示风险",
                    8,
                    Channel.PHONE,
                    category=complaint,
                    team=complaints_team,
                    assignee=officer,
                ),
                [
                    Step(20 * 60, lambda case: None),
                    Step(20 * 60 - 30, reply("您好，您的投诉已受理，我们将在 24 小时内给您答复。")),
                ],
            ),
            (
                opened(
                    "投诉：境外消费争议退款迟迟未到账",
                    10,
                    Channel.EMAIL,
                    category=complaint,
                    team=complaints_team,
                    assignee=officer,
                ),
                [
                    Step(9 * 24 * 60, lambda case: None),
                    Step(
                        9 * 24 * 60 - 90,
                        reply("您好，您的投诉已受理，我们正在联系境外收单机构核实。"),
                    ),
                    Step(2 * 24 * 60, extended(officer, staff.get("supervisor"))),
                ],
            ),
            (
                opened(
                    "投诉：信用卡年费未经同意扣收",
                    9,
                    Channel.PHONE,
                    category=complaint,
                    team=complaints_team,
                    assignee=officer,
                ),
                [
                    Step(30 * 60, lambda case: None),
                    Step(30 * 60 - 60, reply("您好，已收到您的投诉，正在核查年费收取记录。")),
                ],
            ),
        ]
    stories += _resolved_stories(opened, reply, status, agent, general, complaint, officer)
    for make, steps in stories:
        with transaction.atomic():
            first, *rest = steps
            case = make()
            case = _moved(case, [Step(first.minutes_ago, lambda case: None), *rest], now)
            demo_feedback_retimed(case)
    return len(stories)


def _resolved_stories(
    opened: Callable[..., Callable[[], Case]],
    reply: Callable[[str], Callable[[Case], object]],
    status: Callable[[str], Callable[[Case], object]],
    agent: User,
    general: Team,
    complaint: Category | None,
    officer: User | None,
) -> list[tuple[Callable[[], Case], list[Step]]]:
    """Cases resolved today and yesterday: their follow-up calls wait in the queue (one due
    now, one the customer asked to be called back later, one finished), each with its survey."""

    def satisfied_on_the_phone(case: Case) -> None:
        follow_up = FollowUp.objects.get(case=case)
        follow_up_call_record(
            follow_up=follow_up,
            result=CallResult(
                outcome=AttemptOutcome.REACHED,
                verdict=Verdict.SATISFIED,
                remarks="补卡已收到，感谢及时处理",
                csat=5,
                nps=9,
            ),
            actor=agent,
        )

    stories: list[tuple[Callable[[], Case], list[Step]]] = [
        (
            opened("信用卡临时额度调整", 11, Channel.EMAIL, team=general, assignee=agent),
            [
                Step(5 * 60, lambda case: None),
                Step(4 * 60, status(CaseStatus.OPEN)),
                Step(3 * 60 + 10, reply("您好，临时额度已调整为 5 万元，有效期 30 天。")),
                Step(3 * 60, status(CaseStatus.RESOLVED)),
            ],
        ),
        (
            opened("网银登录密码重置", 1, Channel.PHONE, team=general, assignee=agent),
            [
                Step(26 * 60, lambda case: None),
                Step(25 * 60, status(CaseStatus.OPEN)),
                Step(24 * 60, status(CaseStatus.RESOLVED)),
                Step(60, lambda case: demo_no_answer(case, agent, timedelta(hours=2))),
            ],
        ),
        (
            opened("借记卡补卡进度查询", 2, Channel.PHONE, team=general, assignee=agent),
            [
                Step(2 * 24 * 60, lambda case: None),
                Step(2 * 24 * 60 - 30, status(CaseStatus.OPEN)),
                Step(30 * 60, status(CaseStatus.RESOLVED)),
                Step(90, satisfied_on_the_phone),
            ],
        ),
    ]
    if complaint is not None and officer is not None:
        stories.append(
            (
                opened(
                    "投诉：手机银行转账手续费多扣",
                    6,
                    Channel.EMAIL,
                    category=complaint,
                    team=officer.teams.first(),
                    assignee=officer,
                ),
                [
                    Step(28 * 60, lambda case: None),
                    Step(27 * 60, status(CaseStatus.OPEN)),
                    Step(6 * 60, reply("您好，经核实多扣的手续费 25 元已退回您的账户。")),
                    Step(5 * 60, status(CaseStatus.RESOLVED)),
                ],
            )
        )
    return stories
