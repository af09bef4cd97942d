"""Satisfaction surveys: one per case, planned when the case is first resolved.

The invitation goes on the customer's channel (their preferred one first, then the ones the
case's replies can take: e-mail, SMS, WeChat, Alipay) as a signed link to a page that needs no
login; a customer with no such channel is asked on the follow-up call instead. Nothing leaves
in quiet hours (the outbox holds it until they end), a customer is surveyed at most once per
BANKDESK_SURVEY_PERIOD_DAYS, and a customer who opted out is never surveyed again. One reminder
goes to whoever has not answered after BANKDESK_SURVEY_REMINDER_HOURS.

A link names its survey and the survey's own secret, signed with the site's key (salted for
this use); it works until the survey's expiry and only once: a forged, damaged, expired or
used link changes nothing.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from bankdesk.customers.models import Customer
from bankdesk.feedback.choices import (
    OptOutSource,
    QuestionKind,
    ResponseSource,
    SkipReason,
    SurveyStatus,
)
from bankdesk.feedback.errors import SurveyAnswered, SurveyAnswerRefused, SurveyLinkInvalid
from bankdesk.feedback.models import Survey, SurveyOptOut, SurveyResponse, SurveyTemplate
from bankdesk.intake.choices import OutboxStatus
from bankdesk.intake.models import OutboxMessage
from bankdesk.intake.services import case_reply_address, case_reply_channels, outbox_enqueue
from bankdesk.lib.channels import Channel
from bankdesk.lib.errors import InvalidInput
from bankdesk.lib.languages import Language
from bankdesk.lib.quiet_hours import survey_quiet_hours
from bankdesk.lib.redaction import redact_authentication_data
from bankdesk.security.audit import audit_record
from bankdesk.staff.models import User
from bankdesk.tickets.choices import EventKind
from bankdesk.tickets.models import Case
from bankdesk.tickets.services import case_feedback_record

logger = logging.getLogger(__name__)

TEMPLATE_CODE = "after_case"
LINK_SALT = "bankdesk.feedback.survey-link"
# The channels an invitation can go by: each carries a link the customer can open; a web chat
# shows a rating at its end (and the link for the rest of the survey).
SURVEY_CHANNELS = (Channel.WEB_CHAT, Channel.EMAIL, Channel.SMS, Channel.WECHAT, Channel.ALIPAY)
TEXT_ANSWER_MAX = 2000
REMINDER_BATCH = 500
SCALES = {QuestionKind.CSAT: (1, 5), QuestionKind.NPS: (0, 10)}


def survey_template_active(code: str = TEMPLATE_CODE) -> SurveyTemplate | None:
    """The newest active version of the template."""
    return SurveyTemplate.objects.filter(code=code, is_active=True).order_by("-version").first()


def survey_link_token(survey: Survey) -> str:
    return signing.dumps([survey.pk, survey.nonce], salt=LINK_SALT)


def survey_link(survey: Survey) -> str:
    path = reverse("survey", args=[survey_link_token(survey)])
    return f"{settings.BANKDESK_PUBLIC_URL}{path}"


def survey_opted_out(customer_id: int | None) -> bool:
    return customer_id is not None and SurveyOptOut.objects.filter(customer_id=customer_id).exists()


def _recently_surveyed(customer_id: int, now: datetime) -> bool:
    days = settings.BANKDESK_SURVEY_PERIOD_DAYS
    if days == 0:
        return False
    return (
        Survey.objects.filter(customer_id=customer_id, created_at__gt=now - timedelta(days=days))
        .exclude(status=SurveyStatus.SKIPPED)
        .exists()
    )


def _language(case: Case) -> str:
    customer = case.customer
    language = customer.preferred_language if customer is not None else case.language
    return language if language in Language.values else Language.ZH_HANS


def _channels(case: Case) -> list[str]:
    """Where an invitation can go: the chat the customer is in, else their preferred channel,
    then the others their replies can take."""
    usable = [c for c in case_reply_channels(case) if c in SURVEY_CHANNELS]
    preferred = case.customer.preferred_channel if case.customer is not None else ""
    if usable[:1] != [Channel.WEB_CHAT] and preferred in usable:
        usable.remove(preferred)
        usable.insert(0, preferred)
    return usable


def survey_plan(
    *, case: Case, actor: User | None, follow_up_planned: bool, now: datetime | None = None
) -> Survey | None:
    """The survey of a case just resolved (the caller holds the case's lock); the case's
    existing one when it has one. None when the bank has no active survey template."""
    now = now or timezone.now()
    existing = Survey.objects.filter(case=case).first()
    if existing is not None:
        return existing
    template = survey_template_active()
    if template is None:
        logger.warning("no active survey template %r: case %s not surveyed", TEMPLATE_CODE, case.pk)
        return None
    survey = Survey(
        case=case,
        customer_id=case.customer_id,
        template=template,
        language=_language(case),
        created_at=now,
        agent_id=case.assignee_id,
        team_id=case.team_id,
        channel=case.channel,
        category_id=case.category_id,
    )
    channels = _channels(case)
    skip = _skip_reason(case, channels, now)
    channels = [] if skip else channels
    if skip:
        survey.status, survey.skip_reason = SurveyStatus.SKIPPED, skip
    elif channels:
        survey.status = SurveyStatus.SCHEDULED
    elif follow_up_planned:
        survey.status = SurveyStatus.BY_CALL
    else:
        survey.status, survey.skip_reason = SurveyStatus.SKIPPED, SkipReason.NO_CHANNEL
    survey.save()
    if survey.status == SurveyStatus.SCHEDULED:
        _invite(survey, channels, now)
    # Not audited apart: it follows from the resolution, which is (a case event and its entry).
    return survey


def _skip_reason(case: Case, channels: list[str], now: datetime) -> str:
    if case.customer_id is None:
        # A guest in the chat is asked there; nobody else can be reached.
        return "" if channels[:1] == [Channel.WEB_CHAT] else SkipReason.NO_CUSTOMER
    if survey_opted_out(case.customer_id):
        return SkipReason.OPTED_OUT
    if _recently_surveyed(case.customer_id, now):
        return SkipReason.RECENTLY_SURVEYED
    return ""


def _invitation_text(survey: Survey, *, reminder: bool) -> tuple[str, str]:
    """(subject, text) in the survey's language."""
    with translation.override(survey.language):
        number = survey.case.number
        days = settings.BANKDESK_SURVEY_LINK_DAYS
        subject = _("How did we do? Your case %(number)s") % {"number": number}
        opening = (
            _("A reminder: we would still like to hear how we handled your case %(number)s.")
            if reminder
            else _("Your case %(number)s has been resolved. How did we do?")
        ) % {"number": number}
        text = (
            f"{opening} "
            + _("Two questions, one minute: %(link)s (valid for %(days)s days).")
            % {"link": survey_link(survey), "days": days}
            + " "
            + _("The page also lets you stop our surveys.")
        )
    return subject, text


def _chat_rating(survey: Survey) -> dict[str, object]:
    """What the chat widget shows at the end of the chat: the satisfaction question and its
    scale, in the survey's language, with the link to the whole survey."""
    csat = next(
        (q for q in survey.template.question_list() if q["kind"] == QuestionKind.CSAT), None
    )
    texts = (csat or {}).get("text") or {}
    with translation.override(survey.language):
        return {
            "token": survey_link_token(survey),
            "question": texts.get(survey.language) or texts.get(Language.ZH_HANS, ""),
            "low": _("Very unhappy"),
            "high": _("Very satisfied"),
            "thanks": _("Thank you for your rating."),
            "more": _("Tell us more"),
            "link": survey_link(survey),
            "expires_at": (survey.expires_at or timezone.now()).isoformat(),
        }


def _enqueue(survey: Survey, channel: str, send_at: datetime, *, reminder: bool) -> OutboxMessage:
    subject, text = _invitation_text(survey, reminder=reminder)
    payload: dict[str, object] = {
        "text": text,
        "subject": subject,
        "case_number": survey.case.number,
        "in_reply_to": "",
        "kind": "survey_reminder" if reminder else "survey",
        # The outbox holds it while quiet hours last (intake/outbox.py); not a chat's rating.
        "quiet_hours": channel != Channel.WEB_CHAT,
    }
    if channel == Channel.WEB_CHAT:
        payload["survey"] = _chat_rating(survey)
    item = outbox_enqueue(
        case=survey.case,
        message=None,
        channel=channel,
        recipient=case_reply_address(survey.case, channel),
        payload=payload,
    )
    if item.next_attempt_at < send_at:
        item.next_attempt_at = send_at
        item.save(update_fields=["next_attempt_at"])
    return item


def _invite(survey: Survey, channels: list[str], now: datetime) -> None:
    # A rating at the end of a chat is part of the conversation the customer is having, not a
    # message out of the blue: it is offered at once, quiet hours or not.
    quiet = survey_quiet_hours()
    for channel in channels:
        send_at = now if channel == Channel.WEB_CHAT else quiet.next_allowed(now)
        survey.send_at = send_at
        survey.expires_at = send_at + timedelta(days=settings.BANKDESK_SURVEY_LINK_DAYS)
        try:
            survey.invitation = _enqueue(survey, channel, send_at, reminder=False)
        except InvalidInput:  # no address on this channel after all: try the next
            continue
        survey.sent_by = channel
        survey.save(update_fields=["invitation", "sent_by", "send_at", "expires_at"])
        return
    survey.status, survey.skip_reason = SurveyStatus.SKIPPED, SkipReason.NO_CHANNEL
    survey.send_at = survey.expires_at = None
    survey.save(update_fields=["status", "skip_reason", "send_at", "expires_at"])


# --- the link ---------------------------------------------------------------------------------


class LinkProblem:
    FORGED = "forged"
    EXPIRED = "expired"
    USED = "used"
    OPTED_OUT = "opted_out"


@dataclass(frozen=True)
class LinkState:
    """What a link opens: its survey (None when the link is forged) and what stands in the way
    of answering (None: it may be answered)."""

    survey: Survey | None
    problem: str | None


def survey_link_open(token: str, *, now: datetime | None = None) -> LinkState:
    now = now or timezone.now()
    try:
        survey_id, nonce = signing.loads(token, salt=LINK_SALT)
    except (signing.BadSignature, ValueError, TypeError):
        return LinkState(None, LinkProblem.FORGED)
    survey = (
        Survey.objects.select_related("case", "template")
        .filter(pk=survey_id, nonce=nonce)
        .exclude(status=SurveyStatus.SKIPPED)
        .first()
        if isinstance(survey_id, int) and isinstance(nonce, str)
        else None
    )
    if survey is None:
        return LinkState(None, LinkProblem.FORGED)
    if survey.status == SurveyStatus.ANSWERED:
        return LinkState(survey, LinkProblem.USED)
    if survey.expires_at is None or survey.expires_at <= now:
        return LinkState(survey, LinkProblem.EXPIRED)
    return LinkState(survey, None)


def _scale_value(question: dict[str, Any], raw: object) -> int | None:
    low, high = SCALES[question["kind"]]
    if raw in (None, ""):
        if question.get("required"):
            raise SurveyAnswerRefused(
                "please answer this question", code="required", field=question["key"]
            )
        return None
    try:
        value = int(str(raw).strip())
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise SurveyAnswerRefused(
            f"choose a number from {low} to {high}", code="out_of_range", field=question["key"]
        )
    return value


def survey_answers_check(template: SurveyTemplate, given: dict[str, object]) -> dict[str, object]:
    """The answers to the template's questions, checked: scores in range, required ones there,
    free text within bounds and without card data; anything else given is refused."""
    questions = {q["key"]: q for q in template.question_list()}
    unknown = sorted(set(given) - set(questions))
    if unknown:
        raise InvalidInput("unknown question", field=unknown[0])
    answers: dict[str, object] = {}
    for key, question in questions.items():
        raw = given.get(key)
        if question["kind"] in SCALES:
            value = _scale_value(question, raw)
            if value is not None:
                answers[key] = value
            continue
        text = str(raw or "").strip()
        if len(text) > TEXT_ANSWER_MAX:
            raise SurveyAnswerRefused(
                f"at most {TEXT_ANSWER_MAX} characters", code="too_long", field=key
            )
        if not text and question.get("required"):
            raise SurveyAnswerRefused("please answer this question", code="required", field=key)
        if text:
            answers[key] = redact_authentication_data(text)
    return answers


def _scores(template: SurveyTemplate, answers: dict[str, object]) -> tuple[int | None, int | None]:
    csat = nps = None
    for question in template.question_list():
        value = answers.get(question["key"])
        if isinstance(value, int):
            if question["kind"] == QuestionKind.CSAT and csat is None:
                csat = value
            elif question["kind"] == QuestionKind.NPS and nps is None:
                nps = value
    return csat, nps


def _respond(
    survey: Survey,
    answers: dict[str, object],
    *,
    source: str,
    actor: User | None,
    now: datetime,
) -> SurveyResponse:
    """Store the one answer of a survey the caller has locked."""
    if survey.status == SurveyStatus.ANSWERED:
        raise SurveyAnswered("this survey has been answered already", field="survey")
    csat, nps = _scores(survey.template, answers)
    try:
        with transaction.atomic():
            response = SurveyResponse.objects.create(
                survey=survey,
                source=source,
                answered_at=now,
                csat=csat,
                nps=nps,
                answers=json.dumps(answers, ensure_ascii=False),
                recorded_by=actor,
            )
    except IntegrityError:
        raise SurveyAnswered("this survey has been answered already", field="survey") from None
    survey.status = SurveyStatus.ANSWERED
    survey.answered_at = now
    survey.save(update_fields=["status", "answered_at"])
    case_feedback_record(
        case=survey.case,
        kind=EventKind.SURVEY_ANSWERED,
        actor=actor,
        csat=csat,
        nps=nps,
        source=source,
    )
    return response


@transaction.atomic
def survey_answer(
    *,
    token: str,
    given: dict[str, object],
    now: datetime | None = None,
    source: str = ResponseSource.LINK,
) -> SurveyResponse:
    """The customer's answer through their link (or the chat's rating, which carries the
    link's token). Two answers at the same instant store one."""
    now = now or timezone.now()
    state = survey_link_open(token, now=now)
    if state.problem is not None or state.survey is None:
        raise SurveyLinkInvalid(state.problem or LinkProblem.FORGED, field="token")
    answers = survey_answers_check(state.survey.template, given)
    survey = (
        Survey.objects.select_for_update()
        .select_related("case", "template")
        .get(pk=state.survey.pk)
    )
    return _respond(survey, answers, source=source, actor=None, now=now)


@transaction.atomic
def survey_answer_on_call(
    *, case: Case, csat: int | None, nps: int | None, actor: User, now: datetime | None = None
) -> SurveyResponse | None:
    """Scores the customer gave on the follow-up call; None when the survey was answered
    already (the customer's own answer stands) or the bank has no survey template."""
    now = now or timezone.now()
    survey = (
        Survey.objects.select_for_update()
        .select_related("case", "template")
        .filter(case=case)
        .first()
    )
    if survey is None:
        template = survey_template_active()
        if template is None:
            return None
        survey = Survey.objects.create(
            case=case,
            customer_id=case.customer_id,
            template=template,
            status=SurveyStatus.BY_CALL,
            language=_language(case),
            created_at=now,
            agent_id=case.assignee_id,
            team_id=case.team_id,
            channel=case.channel,
            category_id=case.category_id,
        )
    if survey.status == SurveyStatus.ANSWERED:
        return None
    given: dict[str, object] = {}
    for question in survey.template.question_list():
        if question["kind"] == QuestionKind.CSAT and csat is not None:
            given[question["key"]] = csat
        elif question["kind"] == QuestionKind.NPS and nps is not None:
            given[question["key"]] = nps
    answers = survey_answers_check(_lenient(survey.template), given)
    return _respond(survey, answers, source=ResponseSource.CALL, actor=actor, now=now)


def _lenient(template: SurveyTemplate) -> SurveyTemplate:
    """The template with nothing required: a call records what the customer chose to say."""
    copy = SurveyTemplate(code=template.code, version=template.version, name=template.name)
    copy.questions = [{**q, "required": False} for q in template.question_list()]
    return copy


@transaction.atomic
def survey_opt_out(*, token: str, now: datetime | None = None) -> Customer | None:
    """The customer behind the link asks for no more surveys: remembered, and invitations and
    reminders still waiting in the outbox are withdrawn. Works on a used or expired link too."""
    now = now or timezone.now()
    state = survey_link_open(token, now=now)
    if state.survey is None:
        raise SurveyLinkInvalid(LinkProblem.FORGED, field="token")
    customer = state.survey.customer
    if customer is None:
        return None
    return survey_opt_out_record(customer=customer, source=OptOutSource.LINK, actor=None, now=now)


def survey_opt_out_record(
    *, customer: Customer, source: str, actor: User | None, now: datetime
) -> Customer:
    _, created = SurveyOptOut.objects.get_or_create(
        customer=customer, defaults={"at": now, "source": source}
    )
    if created:
        audit_record(actor=actor, action="survey.opt_out", target=customer, fields=["surveys"])
    waiting = Survey.objects.filter(customer=customer, status=SurveyStatus.SCHEDULED)
    withdrawn = OutboxMessage.objects.filter(
        case__survey__in=waiting, message__isnull=True, status=OutboxStatus.PENDING
    ).update(status=OutboxStatus.DEAD, last_error="the customer opted out of surveys")
    if withdrawn:
        logger.info("withdrew %s survey message(s) of an opted-out customer", withdrawn)
    return customer


def survey_reminders_send(*, now: datetime | None = None) -> int:
    """Remind customers who have not answered (once each), unless it is quiet hours now.
    Returns how many reminders were queued."""
    now = now or timezone.now()
    if survey_quiet_hours().contains(now):
        return 0
    cutoff = now - timedelta(hours=settings.BANKDESK_SURVEY_REMINDER_HOURS)
    due = list(
        Survey.objects.filter(
            status=SurveyStatus.SCHEDULED,
            reminded_at__isnull=True,
            send_at__lte=cutoff,
            expires_at__gt=now + timedelta(hours=12),
            invitation__status=OutboxStatus.SENT,
        )
        .exclude(customer__in=SurveyOptOut.objects.values("customer"))
        .order_by("send_at", "id")
        .values_list("pk", flat=True)[:REMINDER_BATCH]
    )
    sent = 0
    for survey_id in due:
        with transaction.atomic():
            survey = (
                Survey.objects.select_for_update(of=("self",))
                .select_related("case", "case__customer")
                .filter(pk=survey_id, status=SurveyStatus.SCHEDULED, reminded_at__isnull=True)
                .first()
            )
            if survey is None:
                continue
            try:
                _enqueue(survey, _reminder_channel(survey), now, reminder=True)
            except InvalidInput:  # the address has gone since, or a chat guest has none
                logger.info("survey %s: no address left for a reminder", survey_id)
            else:
                sent += 1
            survey.reminded_at = now
            survey.save(update_fields=["reminded_at"])
    return sent


def _reminder_channel(survey: Survey) -> str:
    """The invitation's channel; a chat's rating is reminded by the customer's next channel
    (the chat is over by then)."""
    if survey.sent_by != Channel.WEB_CHAT:
        return survey.sent_by
    others = [c for c in _channels(survey.case) if c != Channel.WEB_CHAT]
    if not others:
        raise InvalidInput("no channel to remind by", field="channel")
    return others[0]


def survey_rate_in_chat(*, case_id: int, token: str, score: int) -> str:
    """A rating tapped at the end of a chat, for the chat's own case only; what became of it
    ("stored", "used", "expired", "forged", "invalid")."""
    state = survey_link_open(token)
    if state.survey is None or state.survey.case_id != case_id:
        return LinkProblem.FORGED
    if state.problem is not None:
        return state.problem
    try:
        survey_answer(token=token, given={"csat": score}, source=ResponseSource.CHAT)
    except SurveyAnswered:
        return LinkProblem.USED
    except InvalidInput:
        return "invalid"
    return "stored"
