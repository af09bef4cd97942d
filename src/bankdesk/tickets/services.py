"""Writes for cases. Each runs in one transaction, locks the case and appends a CaseEvent."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from bankdesk.customers.choices import Language
from bankdesk.customers.models import Customer
from bankdesk.lib.channels import Channel
from bankdesk.lib.errors import InvalidInput
from bankdesk.lib.html import sanitise_html
from bankdesk.lib.live import queue_changed_notify
from bankdesk.lib.redaction import redact_authentication_data, redact_personal_data
from bankdesk.lib.text import one_line
from bankdesk.security.audit import audit_record
from bankdesk.sla.clocks import sla_clocks_sync
from bankdesk.staff.choices import Role
from bankdesk.staff.models import Branch, Team, User
from bankdesk.tickets.choices import (
    COMPLAINT_DECISION_STEP,
    TRANSITIONS,
    CaseStatus,
    DeliveryStatus,
    Direction,
    EventKind,
    LinkRelation,
    Priority,
)
from bankdesk.tickets.errors import (
    AssigneeNotInTeam,
    AssigneeRecused,
    CaseClosed,
    DuplicateMessage,
    InvalidTransition,
    MergeNotAllowed,
)
from bankdesk.tickets.live import live_message_publish
from bankdesk.tickets.models import (
    Case,
    CaseEvent,
    Category,
    Conversation,
    InternalNote,
    Message,
    Tag,
)
from bankdesk.tickets.numbering import case_number_next
from bankdesk.tickets.recusal import BRANCH_STAFF, recused_staff
from bankdesk.tickets.signals import case_resolved, complaint_opened
from bankdesk.tickets.threads import thread_key

SUBJECT_MAX = 200
TEXT_MAX = 100_000


# Which case fields each kind of event changes: the audit chain names fields, never values.
_EVENT_FIELDS: dict[str, tuple[str, ...]] = {
    EventKind.CREATED: ("subject", "channel", "priority", "category", "customer", "language"),
    EventKind.STATUS_CHANGED: ("status",),
    EventKind.PRIORITY_CHANGED: ("priority",),
    EventKind.CATEGORY_CHANGED: ("category", "is_complaint"),
    EventKind.COMPLAINT_OPENED: ("is_complaint",),
    EventKind.COMPLAINT_STEP: ("complaint",),
    EventKind.FOLLOW_UP: ("follow_up",),
    EventKind.SURVEY_ANSWERED: ("survey",),
    EventKind.ASSIGNED: ("team", "assignee"),
    EventKind.MESSAGE_ADDED: ("messages",),
    EventKind.NOTE_ADDED: ("notes",),
    EventKind.TAGS_CHANGED: ("tags",),
    EventKind.MERGED_INTO: ("status", "merged_into", "messages", "notes"),
    EventKind.MERGED_FROM: ("messages", "notes"),
    EventKind.ASSISTANT_HANDOFF: ("events",),
    EventKind.LINKED: ("links",),
    EventKind.CONTACT_NOT_ON_FILE: ("messages",),
    EventKind.DELIVERY_FAILED: ("messages",),
    EventKind.DELIVERY_RETRIED: ("messages",),
}


def _event(case: Case, kind: str, actor: User | None, **data: Any) -> CaseEvent:
    """Append the case event and its audit entry, in the caller's transaction."""
    event = CaseEvent.objects.create(case=case, kind=kind, actor=actor, data=data)
    audit_record(actor=actor, action=f"case.{kind}", target=case, fields=_EVENT_FIELDS[kind])
    transaction.on_commit(queue_changed_notify, robust=True)
    return event


def _assigned_event(
    case: Case,
    actor: User | None,
    *,
    previous_team_id: int | None,
    previous_assignee_id: int | None,
) -> CaseEvent:
    return _event(
        case,
        EventKind.ASSIGNED,
        actor,
        team_id=case.team_id,
        assignee_id=case.assignee_id,
        previous_team_id=previous_team_id,
        previous_assignee_id=previous_assignee_id,
    )


def _locked(case: Case) -> Case:
    """Re-read the case under a row lock so concurrent writers see each other's changes."""
    return Case.objects.select_for_update().get(pk=case.pk)


def _touch(case: Case, *fields: str) -> None:
    case.updated_at = timezone.now()
    case.save(update_fields=[*fields, "updated_at"])


def _check_subject(subject: str) -> str:
    """One line, whoever wrote it: the subject goes out in the header of every reply."""
    subject = redact_personal_data(one_line(subject))
    if not subject:
        raise InvalidInput("subject is required", field="subject")
    if len(subject) > SUBJECT_MAX:
        raise InvalidInput(f"subject is at most {SUBJECT_MAX} characters", field="subject")
    return subject


def _redacted(text: str, *, direction: str = Direction.INBOUND) -> str:
    """Free text as it may be stored: what the customer wrote (and notes, reasons, subjects)
    keeps no identifier; a reply to the customer keeps the phone numbers and e-mail addresses
    staff wrote in it (the bank's own, which it must reach the customer with) but no card, ID
    number or password."""
    if direction == Direction.OUTBOUND:
        return redact_authentication_data(text)
    return redact_personal_data(text)


def _check_text(text: str, field: str = "text", *, direction: str = Direction.INBOUND) -> str:
    """Required free text, with the identifiers typed into it masked (see `_redacted`)."""
    text = _redacted(text.strip(), direction=direction)
    if not text:
        raise InvalidInput(f"{field} is required", field=field)
    if len(text) > TEXT_MAX:
        raise InvalidInput(f"{field} is at most {TEXT_MAX} characters", field=field)
    return text


def _check_assignable(team: Team | None, assignee: User | None, case: Case | None = None) -> None:
    if assignee is None:
        return
    if not assignee.is_active or assignee.role in {Role.AUDITOR}:
        raise InvalidInput("this person cannot work cases", field="assignee_id")
    if team is not None and not assignee.teams.filter(pk=team.pk).exists():
        raise AssigneeNotInTeam(
            f"{assignee} is not a member of team {team.code}", field="assignee_id"
        )
    why = recused_staff(case).get(assignee.pk) if case is not None else None
    if case is not None and why is not None:
        involvement = (
            f"works at the branch complaint {case.number} is about"
            if why == BRANCH_STAFF
            else f"handled what complaint {case.number} is about"
        )
        raise AssigneeRecused(f"{assignee} {involvement} and may not handle it",
                              field="assignee_id")  # fmt: skip


def _complaint_opened(case: Case, actor: User | None, **data: Any) -> None:
    """From now on the case is handled as a complaint: recorded, and the apps built on
    tickets told in this transaction (the complaints app opens its record)."""
    at_creation = bool(data.pop("at_creation", False))
    _event(case, EventKind.COMPLAINT_OPENED, actor, **data)
    complaint_opened.send(
        sender=Case,
        case=case,
        actor=actor,
        on=str(data.get("on", "created")),
        at_creation=at_creation,
    )


@transaction.atomic
def case_create(
    *,
    subject: str,
    channel: str,
    actor: User | None,
    customer: Customer | None = None,
    category: Category | None = None,
    priority: str = Priority.NORMAL,
    team: Team | None = None,
    assignee: User | None = None,
    language: str = Language.ZH_HANS,
    text: str = "",
    external_id: str | None = None,
    tags: Iterable[str] = (),
    created_at: datetime | None = None,
    branch: Branch | None = None,
    route: bool = False,
    html: str = "",
    external_thread_id: str = "",
    is_complaint: bool = False,
    complaint_on: str = "created",
) -> Case:
    """Open a case, with the customer's first message when there is one.

    It is a complaint when its category is one, or when whoever opens it says so
    (`is_complaint`: the assistant heard one, a regulator forwarded one — `complaint_on`).

    With `route`, a case opened without a team or assignee goes where the routing rules send
    it, before its SLA clocks start, so they run on the calendar of the team that works it.
    """
    subject = _check_subject(subject)
    if channel not in Channel.values:
        raise InvalidInput("unknown channel", field="channel")
    if priority not in Priority.values:
        raise InvalidInput("unknown priority", field="priority")
    if language not in Language.values:
        raise InvalidInput("unknown language", field="language")
    if category is not None and not category.is_active:
        raise InvalidInput("this category is retired", field="category_id")
    if branch is not None and not branch.is_active:
        raise InvalidInput("this branch is closed", field="branch_id")
    _check_assignable(team, assignee)
    now = created_at or timezone.now()
    case = Case.objects.create(
        number=_number_pending(),
        subject=subject,
        channel=channel,
        language=language,
        priority=priority,
        category=category,
        is_complaint=is_complaint or bool(category and category.is_complaint),
        customer=customer,
        team=team,
        assignee=assignee,
        branch=branch,
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    _event(
        case,
        EventKind.CREATED,
        actor,
        channel=channel,
        priority=priority,
        category=category.code if category else None,
        customer_id=customer.pk if customer else None,
    )
    if case.is_complaint:
        _complaint_opened(case, actor, on=complaint_on, at_creation=True)
    if team is not None or assignee is not None:
        _assigned_event(case, actor, previous_team_id=None, previous_assignee_id=None)
    if text:
        _message_add(
            case=case,
            direction=Direction.INBOUND,
            channel=channel,
            text=text,
            html=html,
            actor=actor,
            author=None,
            external_id=external_id,
            # A new case has no conversation yet: no need to look for one.
            conversation=Conversation.objects.create(
                case=case,
                channel=channel,
                external_thread_id=thread_key(channel, external_thread_id),
            ),
        )
    if tags:
        _tags_set(case, tags, actor)
    if route and team is None and assignee is None:
        # Routing builds on these services; imported here so the two modules can meet.
        from bankdesk.tickets.routing import case_route

        outcome = case_route(case=case, actor=actor)
        if outcome.team is not None or outcome.assignee is not None:
            case.refresh_from_db()
    sla_clocks_sync(case=case)
    # Last: the year's counter is one row every new case locks until it commits, so taking the
    # number here lets other creations run their routing and clock replay alongside this one.
    case.number = case_number_next(now)
    Case.objects.filter(pk=case.pk).update(number=case.number)
    return case


def _number_pending() -> str:
    """A stand-in for the case number until `case_create` takes it, just before commit; it
    never leaves the creating transaction."""
    return f"~{uuid.uuid4().hex[:19]}"


@transaction.atomic
def case_status_change(
    *, case: Case, status: str, actor: User | None, reason: str = "", history: bool = False
) -> Case:
    """Move a case along its lifecycle; anything the state machine does not allow is a 409.
    `history`: the change is an old one loaded after the fact (an import), which nobody
    follows up with the customer."""
    case = _locked(case)
    if status not in CaseStatus.values:
        raise InvalidInput("unknown status", field="status")
    if status == case.status:
        raise InvalidTransition(f"the case is already {status}", field="status")
    if status not in TRANSITIONS[case.status]:
        raise InvalidTransition(f"a {case.status} case cannot become {status}", field="status")
    previous = case.status
    now = timezone.now()
    case.status = status
    if status == CaseStatus.RESOLVED:
        case.resolved_at = now
    elif status == CaseStatus.CLOSED:
        case.closed_at = now
    elif previous == CaseStatus.RESOLVED:  # reopened
        case.resolved_at = None
    _touch(case, "status", "resolved_at", "closed_at")
    reason = redact_personal_data(reason)
    _event(
        case, EventKind.STATUS_CHANGED, actor, **{"from": previous, "to": status, "reason": reason}
    )
    sla_clocks_sync(case=case)
    if status == CaseStatus.RESOLVED and not history:
        case_resolved.send(sender=Case, case=case, actor=actor)
    return case


def _require_workable(case: Case) -> None:
    if case.status == CaseStatus.CLOSED:
        raise CaseClosed(f"case {case.number} is closed", field="case_id")


@transaction.atomic
def case_priority_change(*, case: Case, priority: str, actor: User | None) -> Case:
    case = _locked(case)
    _require_workable(case)
    if priority not in Priority.values:
        raise InvalidInput("unknown priority", field="priority")
    if priority == case.priority:
        return case
    previous = case.priority
    case.priority = priority
    _touch(case, "priority")
    _event(case, EventKind.PRIORITY_CHANGED, actor, **{"from": previous, "to": priority})
    sla_clocks_sync(case=case)
    return case


@transaction.atomic
def case_category_change(*, case: Case, category: Category, actor: User | None) -> Case:
    case = _locked(case)
    _require_workable(case)
    if not category.is_active:
        raise InvalidInput("this category is retired", field="category_id")
    if category.pk == case.category_id:
        return case
    previous = case.category.code if case.category else None
    becomes_complaint = category.is_complaint and not case.is_complaint
    case.category = category
    case.is_complaint = case.is_complaint or category.is_complaint
    _touch(case, "category", "is_complaint")
    _event(case, EventKind.CATEGORY_CHANGED, actor, **{"from": previous, "to": category.code})
    if becomes_complaint:
        _complaint_opened(case, actor, on="category")
    sla_clocks_sync(case=case)
    return case


def case_complaint_step_record(
    *, case: Case, actor: User | None, step: str, **data: Any
) -> CaseEvent:
    """A step of the case's complaint (the complaints app's), in its history and audited, in
    the caller's transaction. The decision stops the statutory clocks."""
    case.updated_at = timezone.now()
    Case.objects.filter(pk=case.pk).update(updated_at=case.updated_at)
    event = _event(case, EventKind.COMPLAINT_STEP, actor, step=step, **data)
    if step == COMPLAINT_DECISION_STEP:
        sla_clocks_sync(case=_locked(case))
    return event


def case_feedback_record(*, case: Case, kind: str, actor: User | None, **data: Any) -> CaseEvent:
    """A follow-up call or a survey answer (the feedback app's), in the case's history and
    audited, in the caller's transaction. Neither changes the case or its clocks."""
    if kind not in (EventKind.FOLLOW_UP, EventKind.SURVEY_ANSWERED):
        raise InvalidInput("not a feedback event", field="kind")
    return _event(case, kind, actor, **data)


@transaction.atomic
def case_complaint_mark(*, case: Case, actor: User | None, on: str) -> Case:
    """Handle a case as a complaint from now on (the customer complained on a case opened for
    something else): complaint officers see it, and its clocks are worked out again under the
    policy that now fits. `on` says what showed it ("assistant", "staff" …)."""
    case = _locked(case)
    _require_workable(case)
    if case.is_complaint:
        return case
    case.is_complaint = True
    _touch(case, "is_complaint")
    _complaint_opened(case, actor, on=on)
    sla_clocks_sync(case=case)
    return case


@transaction.atomic
def case_assign(
    *, case: Case, team: Team | None, assignee: User | None, actor: User | None
) -> Case:
    """Give the case to a team and/or a person (its status stays as it is)."""
    case = _locked(case)
    _require_workable(case)
    team = team if team is not None else case.team
    _check_assignable(team, assignee, case)
    if team == case.team and assignee == case.assignee:
        return case
    previous_team_id, previous_assignee_id = case.team_id, case.assignee_id
    case.team, case.assignee = team, assignee
    _touch(case, "team", "assignee")
    _assigned_event(
        case, actor, previous_team_id=previous_team_id, previous_assignee_id=previous_assignee_id
    )
    return case


def _message_add(
    *,
    case: Case,
    direction: str,
    channel: str,
    text: str,
    html: str,
    actor: User | None,
    author: User | None,
    external_id: str | None,
    conversation: Conversation | None = None,
    external_thread_id: str = "",
) -> Message:
    if direction not in Direction.values:
        raise InvalidInput("unknown direction", field="direction")
    if channel not in Channel.values:
        raise InvalidInput("unknown channel", field="channel")
    text = _check_text(text, direction=direction)
    if external_id is not None:
        existing_id = (
            Message.objects.filter(channel=channel, external_id=external_id)
            .values_list("pk", flat=True)
            .first()
        )
        if existing_id is not None:
            raise DuplicateMessage(
                "this message was already received", existing_id=existing_id, field="external_id"
            )
    if conversation is None:
        thread = thread_key(channel, external_thread_id)
        threads = Conversation.objects.filter(case=case, channel=channel)
        if thread:
            threads = threads.filter(external_thread_id=thread)
        conversation = threads.order_by("-id").first() or Conversation.objects.create(
            case=case, channel=channel, external_thread_id=thread
        )
    try:
        with transaction.atomic():
            message = Message.objects.create(
                conversation=conversation,
                case=case,
                direction=direction,
                channel=channel,
                author=author,
                text=text,
                html=_redacted(sanitise_html(html), direction=direction) if html else "",
                external_id=external_id,
            )
    except IntegrityError as exc:  # the same external id arrived twice at the same moment
        existing_id = (
            Message.objects.filter(channel=channel, external_id=external_id)
            .values_list("pk", flat=True)
            .first()
        )
        raise DuplicateMessage(
            "this message was already received", existing_id=existing_id or 0, field="external_id"
        ) from exc
    fields = []
    if direction == Direction.OUTBOUND and author is not None and case.first_response_at is None:
        case.first_response_at = message.created_at
        fields.append("first_response_at")
    _touch(case, *fields)
    _event(
        case,
        EventKind.MESSAGE_ADDED,
        actor,
        message_id=message.pk,
        direction=direction,
        channel=channel,
    )
    transaction.on_commit(lambda: live_message_publish(message), robust=True)
    return message


@transaction.atomic
def case_message_add(
    *,
    case: Case,
    direction: str,
    text: str,
    actor: User | None,
    channel: str | None = None,
    html: str = "",
    external_id: str | None = None,
    external_thread_id: str = "",
) -> Message:
    """Add a message to a case. A staff reply (outbound) counts as the first response.

    A customer's message (inbound) comes in through a channel — `intake.services` — and never
    in a member of staff's name; a staff reply goes out through `intake.services.case_reply`,
    which queues its delivery in the same transaction.
    """
    if direction == Direction.INBOUND and actor is not None:
        raise InvalidInput(
            "a customer's message comes in through a channel, never from staff", field="direction"
        )
    case = _locked(case)
    _require_workable(case)
    author = actor if direction == Direction.OUTBOUND else None
    message = _message_add(
        case=case,
        direction=direction,
        channel=channel or case.channel,
        text=text,
        html=html,
        actor=actor,
        author=author,
        external_id=external_id,
        external_thread_id=external_thread_id,
    )
    sla_clocks_sync(case=case)
    return message


@transaction.atomic
def case_link(*, case: Case, referred: Case, actor: User | None) -> None:
    """Link a case to another that one of its messages named but may not write into (a mail
    quoting someone else's case number): staff see the link on both. The named case is only
    told: its status, clocks and time of last change stay as they were, since its own customer
    did nothing."""
    _event(
        case,
        EventKind.LINKED,
        actor,
        linked_case_id=referred.pk,
        linked_number=referred.number,
        relation=LinkRelation.REFERS_TO,
    )
    _event(
        referred,
        EventKind.LINKED,
        actor,
        linked_case_id=case.pk,
        linked_number=case.number,
        relation=LinkRelation.REFERRED_TO_BY,
    )


@transaction.atomic
def case_contact_not_on_file_record(
    *, case: Case, message: Message, contact: Customer | None
) -> CaseEvent:
    """Tell staff that a message on the case came from a contact not on its customer's file,
    let in by the bank's reply token: the customer answering from another mailbox, or someone
    they passed the bank's mail to. The contact is not added to the customer; staff who know it
    is theirs fold it in (a provisional contact's merge), and replies still go to the file."""
    return _event(
        case,
        EventKind.CONTACT_NOT_ON_FILE,
        None,
        message_id=message.pk,
        contact_customer_id=contact.pk if contact is not None else None,
    )


@transaction.atomic
def message_delivery_record(
    *,
    message: Message,
    status: str,
    reason: str = "",
    attempts: int = 0,
    actor: User | None = None,
) -> Message:
    """Note what became of a reply on its way to the customer. A reply given up ("failed")
    appends a case event with the reason, and one queued again after that appends one naming
    who sent it again, so the case shows every reply that did not arrive and what was done."""
    if status not in DeliveryStatus.values:
        raise InvalidInput("unknown delivery status", field="status")
    previous = message.delivery_status
    message.delivery_status = status
    message.save(update_fields=["delivery_status"])
    if status == DeliveryStatus.FAILED:
        case = _locked(message.case)
        _touch(case)
        _event(
            case,
            EventKind.DELIVERY_FAILED,
            actor,
            message_id=message.pk,
            channel=message.channel,
            attempts=attempts,
            reason=reason[:500],
        )
    elif status == DeliveryStatus.QUEUED and previous == DeliveryStatus.FAILED:
        case = _locked(message.case)
        _touch(case)
        _event(
            case, EventKind.DELIVERY_RETRIED, actor, message_id=message.pk, channel=message.channel
        )
    return message


@transaction.atomic
def case_note_add(*, case: Case, text: str, actor: User) -> InternalNote:
    case = _locked(case)
    note = InternalNote.objects.create(case=case, author=actor, text=_check_text(text))
    _touch(case)
    _event(case, EventKind.NOTE_ADDED, actor, note_id=note.pk)
    return note


def _tags_set(case: Case, names: Iterable[str], actor: User | None) -> None:
    clean = sorted({name.strip() for name in names if name.strip()})
    for name in clean:
        if len(name) > 50:
            raise InvalidInput("a tag is at most 50 characters", field="tags")
    previous = sorted(case.tags.values_list("name", flat=True))
    if previous == clean:
        return
    tags = [Tag.objects.get_or_create(name=name)[0] for name in clean]
    case.tags.set(tags)
    _event(case, EventKind.TAGS_CHANGED, actor, **{"from": previous, "to": clean})


@transaction.atomic
def case_handoff_record(*, case: Case, summary: dict[str, Any]) -> CaseEvent:
    """What the assistant understood before handing the customer over — intent, entities,
    sentiment, why — kept on the case so nobody asks the customer twice."""
    return _event(case, EventKind.ASSISTANT_HANDOFF, None, **summary)


@transaction.atomic
def case_tags_set(*, case: Case, tags: Iterable[str], actor: User | None) -> Case:
    case = _locked(case)
    _require_workable(case)
    _tags_set(case, tags, actor)
    _touch(case)
    return case


@transaction.atomic
def case_merge(*, source: Case, target: Case, actor: User | None, reason: str = "") -> Case:
    """Fold `source` into `target`: its conversations, messages and notes move; it closes.

    Both numbers stay valid: the source keeps its number and points at the target.
    """
    if source.pk == target.pk:
        raise MergeNotAllowed("a case cannot be merged into itself", field="into_case_id")
    # Lock in id order so two opposite merges cannot deadlock.
    locked = {
        c.pk: c
        for c in Case.objects.select_for_update()
        .filter(pk__in=[source.pk, target.pk])
        .order_by("pk")
    }
    source, target = locked[source.pk], locked[target.pk]
    for case, field in ((source, "case_id"), (target, "into_case_id")):
        if case.status == CaseStatus.CLOSED:
            raise MergeNotAllowed(f"case {case.number} is closed", field=field)
    if (
        source.customer_id is not None
        and target.customer_id is not None
        and source.customer_id != target.customer_id
    ):
        raise MergeNotAllowed("the cases belong to different customers", field="into_case_id")
    moved_messages = Message.objects.filter(case=source).update(case=target)
    Conversation.objects.filter(case=source).update(case=target)
    moved_notes = InternalNote.objects.filter(case=source).update(case=target)
    now = timezone.now()
    previous_status = source.status
    source.status = CaseStatus.CLOSED
    source.closed_at = now
    source.merged_into = target
    _touch(source, "status", "closed_at", "merged_into")
    if target.customer_id is None and source.customer_id is not None:
        target.customer_id = source.customer_id
        _touch(target, "customer")
    else:
        _touch(target)
    _event(
        source,
        EventKind.MERGED_INTO,
        actor,
        into_case_id=target.pk,
        into_number=target.number,
        reason=redact_personal_data(reason),
        **{"from": previous_status, "to": CaseStatus.CLOSED},
    )
    _event(
        target,
        EventKind.MERGED_FROM,
        actor,
        from_case_id=source.pk,
        from_number=source.number,
        moved_messages=moved_messages,
        moved_notes=moved_notes,
    )
    sla_clocks_sync(case=source)
    return target


@transaction.atomic
def category_create(
    *,
    code: str,
    name: str,
    name_en: str = "",
    parent: Category | None = None,
    is_complaint: bool = False,
    actor: User | None = None,
) -> Category:
    category = Category(
        code=code, name=name, name_en=name_en, parent=parent, is_complaint=is_complaint
    )
    category.full_clean()
    category.save()
    audit_record(
        actor=actor,
        action="category.create",
        target=category,
        fields=["code", "name", "name_en", "parent", "is_complaint"],
    )
    return category
