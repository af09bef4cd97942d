"""A year of synthetic cases, each with the conversation, messages and events a real one leaves.

Each case is first planned as a time-ordered list of steps that obey the state machine in
tickets/choices.py, then cut at `now` (so recent cases are still open or waiting), then written
out as rows whose event kinds and data keys match what tickets/services.py appends.
"""

from __future__ import annotations

import itertools
import json
import random
from typing import Any

from bankdesk.demo import wording
from bankdesk.demo.behaviour import (
    CHANNEL_WEIGHTS,
    CHAT_LIKE,
    HANDLING,
    PRIORITY_BUMP,
    PRIORITY_WEIGHTS,
    QUEUE_MEAN,
    REPLY_MEAN,
    STAFF_OPENED,
    STALL_SHARE,
    WITH_EXTERNAL_IDS,
)
from bankdesk.demo.context import CaseContext, CaseRows, CategoryPlan
from bankdesk.demo.people import CustomerProfile
from bankdesk.demo.taxonomy import (
    PROFILE_COMPLAINT,
    PROFILE_ENQUIRY,
    PROFILE_INVESTIGATION,
)
from bankdesk.demo.wording import Phrases
from bankdesk.lib.channels import Channel
from bankdesk.tickets.choices import CaseStatus, Direction, EventKind

_MINUTE, _HOUR, _DAY = 60, 3_600, 86_400

NEW, OPEN = CaseStatus.NEW.value, CaseStatus.OPEN.value
PENDING_CUSTOMER = CaseStatus.PENDING_CUSTOMER.value
PENDING_INTERNAL = CaseStatus.PENDING_INTERNAL.value
RESOLVED, CLOSED = CaseStatus.RESOLVED.value, CaseStatus.CLOSED.value
INBOUND, OUTBOUND = Direction.INBOUND.value, Direction.OUTBOUND.value
CREATED, ASSIGNED = EventKind.CREATED.value, EventKind.ASSIGNED.value
STATUS_CHANGED, MESSAGE_ADDED = EventKind.STATUS_CHANGED.value, EventKind.MESSAGE_ADDED.value


# Plan steps: (time, kind, …kind's fields). Plain tuples, not named ones: there are tens of
# millions of them, so they are typed loosely.
Step = tuple[Any, ...]
_S_CREATED, _S_ASSIGN, _S_STATUS, _S_MESSAGE = 0, 1, 2, 3


def _null(value: int | None) -> str:
    return "null" if value is None else str(value)


class CaseBuilder:
    """Plans and writes out cases; ids continue from the `first_*_id` given."""

    def __init__(
        self,
        rng: random.Random,
        context: CaseContext,
        *,
        first_case_id: int,
        first_conversation_id: int,
        first_message_id: int,
        first_event_id: int,
    ) -> None:
        self.rng = rng
        self.ctx = context
        self.next_case_id = first_case_id
        self.next_conversation_id = first_conversation_id
        self.next_message_id = first_message_id
        self.next_event_id = first_event_id
        self._channels = {
            language: (list(weights), list(itertools.accumulate(weights.values())))
            for language, weights in CHANNEL_WEIGHTS.items()
        }
        self._priorities = {
            profile: (list(weights), list(itertools.accumulate(weights.values())))
            for profile, weights in PRIORITY_WEIGHTS.items()
        }
        self._status_json: dict[tuple[str, str, str], str] = {}
        self._category_json = {c.id: json.dumps(c.code) for c in context.categories}

    # --- choosing ---------------------------------------------------------------------------

    def _channel(self, customer: CustomerProfile) -> str:
        if customer.preferred_channel and self.rng.random() < 0.4:
            return customer.preferred_channel
        names, cumulative = self._channels.get(customer.language, self._channels["zh-hans"])
        return self.rng.choices(names, cum_weights=cumulative)[0]

    def _team(self, category: CategoryPlan, language: str) -> int | None:
        ctx = self.ctx
        if category.is_complaint and ctx.complaint_team_id in ctx.team_members:
            return ctx.complaint_team_id
        if language != "zh-hans" and ctx.foreign_language_team_id in ctx.team_members:
            return ctx.foreign_language_team_id
        if category.team_id in ctx.team_members:
            return category.team_id
        return ctx.default_team_id

    def _member(self, team_id: int | None, other_than: int | None = None) -> int | None:
        if team_id is None:
            return None
        members, cumulative = self.ctx.team_members[team_id]
        for _ in range(3):
            chosen = self.rng.choices(members, cum_weights=cumulative)[0]
            if chosen != other_than:
                return chosen
        return None if other_than is not None else members[0]

    def _subject(self, category: CategoryPlan, customer: CustomerProfile) -> str:
        rng = self.rng
        template = rng.choice(category.subjects.for_language(customer.language))
        amount = int(10 ** rng.uniform(1.7, 4.7))
        shown = f"{amount:,}" if customer.language == "en" else str(amount)
        last4 = customer.card_last4 if "卡" in category.name else customer.account_last4
        return template.format(
            last4=last4 or f"{rng.randrange(10_000):04d}",
            amount=shown,
            name=category.name,
            name_en=category.name_en or category.name,
        )[:200]

    def _say(self, phrases: Phrases, language: str, **values: object) -> str:
        text = self.rng.choice(phrases.for_language(language))
        return text.format(**values) if values else text

    def _status_data(self, before: str, after: str, reason: str) -> str:
        key = (before, after, reason)
        text = self._status_json.get(key)
        if text is None:
            text = json.dumps({"from": before, "to": after, "reason": reason})
            self._status_json[key] = text
        return text

    # --- planning ---------------------------------------------------------------------------

    def _plan(
        self,
        t0: int,
        category: CategoryPlan,
        customer: CustomerProfile,
        channel: str,
        subject: str,
        team: int | None,
        assignee: int | None,
    ) -> list[Step]:
        """One case's whole story, read top to bottom, before it is cut at now."""
        rng, language = self.rng, customer.language
        expo = rng.expovariate
        plan: list[Step] = [(t0, _S_CREATED)]
        sep = "" if subject[-1] in "?？" else ("。" if language != "en" else ". ")
        opening = subject + sep + self._say(wording.CUSTOMER_OPENING, language)
        if channel in STAFF_OPENED:
            note = wording.CALL_NOTE if channel == Channel.PHONE else wording.BRANCH_NOTE
            opening = self._say(note, language) + opening
            plan.append((t0, _S_ASSIGN, team, assignee, None, None, assignee))
            plan.append((t0, _S_MESSAGE, INBOUND, None, assignee, opening))
            if assignee is None:
                return plan
            t = t0 + rng.randrange(5, 60)
        else:
            plan.append((t0, _S_MESSAGE, INBOUND, None, None, opening))
            mean = 90 if channel in CHAT_LIKE else QUEUE_MEAN.get(channel, 10 * _MINUTE)
            t = t0 + 5 + int(expo(1 / mean))
            plan.append((t, _S_ASSIGN, team, assignee, None, None, None))
            if assignee is None:
                return plan
        plan.append((t, _S_STATUS, NEW, OPEN, "", assignee))
        profile = category.profile
        reply_mean = 60 if channel in CHAT_LIKE else REPLY_MEAN.get(channel, 10 * _MINUTE)
        if profile == PROFILE_COMPLAINT:
            reply_mean = max(reply_mean, 2 * _HOUR)
        t += 10 + int(expo(1 / reply_mean))
        first = wording.COMPLAINT_REPLY if category.is_complaint else wording.FIRST_REPLY
        plan.append((t, _S_MESSAGE, OUTBOUND, assignee, assignee, self._say(first, language)))
        if rng.random() < 0.04:  # handed to a colleague (shift end, specialist)
            colleague = self._member(team, other_than=assignee)
            if colleague is not None:
                t += int(expo(1 / (2 * _HOUR)))
                plan.append((t, _S_ASSIGN, team, colleague, team, assignee, assignee))
                assignee = colleague
        p_customer, p_internal, internal_mean, work_mean = HANDLING.get(
            profile, HANDLING[PROFILE_ENQUIRY]
        )
        state = OPEN
        if rng.random() < p_customer:
            reason = self._say(wording.REASON_PENDING_CUSTOMER, language)
            plan.append(
                (
                    t,
                    _S_MESSAGE,
                    OUTBOUND,
                    assignee,
                    assignee,
                    self._say(wording.ASK_FOR_DETAILS, language),
                )
            )
            plan.append((t, _S_STATUS, OPEN, PENDING_CUSTOMER, reason, assignee))
            state = PENDING_CUSTOMER
            if rng.random() < 0.8:  # the customer answers; their reply reopens the case
                t += 60 + int(expo(1 / (8 * _HOUR)))
                plan.append(
                    (
                        t,
                        _S_MESSAGE,
                        INBOUND,
                        None,
                        None,
                        self._say(wording.CUSTOMER_SENDS_DETAILS, language),
                    )
                )
                plan.append((t, _S_STATUS, PENDING_CUSTOMER, OPEN, "", None))
                state = OPEN
            else:  # no answer: the agent closes the loop after a few days
                t += 3 * _DAY + int(expo(1 / _DAY))
        if state == OPEN and rng.random() < p_internal:
            days = 3 if profile != PROFILE_INVESTIGATION else 10
            plan.append(
                (
                    t,
                    _S_MESSAGE,
                    OUTBOUND,
                    assignee,
                    assignee,
                    self._say(wording.REFERRED, language, days=days),
                )
            )
            plan.append(
                (
                    t,
                    _S_STATUS,
                    OPEN,
                    PENDING_INTERNAL,
                    self._say(wording.REASON_PENDING_INTERNAL, language),
                    assignee,
                )
            )
            t += _HOUR + int(expo(1 / internal_mean))
            if profile == PROFILE_COMPLAINT and rng.random() < 0.1:
                t += 10 * _DAY + int(expo(1 / (5 * _DAY)))  # extended investigation
            state = PENDING_INTERNAL
            if rng.random() < 0.5:
                plan.append((t, _S_STATUS, PENDING_INTERNAL, OPEN, "", assignee))
                state = OPEN
                t += int(expo(1 / work_mean))
        else:
            t += int(expo(1 / work_mean))
        reopened = False
        while True:
            plan.append(
                (
                    t,
                    _S_MESSAGE,
                    OUTBOUND,
                    assignee,
                    assignee,
                    self._say(wording.RESOLVED_REPLY, language),
                )
            )
            plan.append((t, _S_STATUS, state, RESOLVED, "", assignee))
            p_reopen = 0.08 if category.is_complaint else 0.03
            if reopened or rng.random() >= p_reopen:
                break
            reopened = True
            t += _HOUR + int(expo(1 / (2 * _DAY)))
            plan.append(
                (t, _S_MESSAGE, INBOUND, None, None, self._say(wording.CUSTOMER_REOPENS, language))
            )
            plan.append(
                (t, _S_STATUS, RESOLVED, OPEN, self._say(wording.REASON_REOPENED, language), None)
            )
            state = OPEN
            t += int(expo(1 / (work_mean + 4 * _HOUR)))
        autoclose = self.ctx.autoclose_days * _DAY
        if rng.random() < 0.55:
            t += min(int(expo(1 / (6 * _HOUR))), autoclose - _HOUR)
            reason = self._say(wording.REASON_CONFIRMED, language)
            plan.append((t, _S_STATUS, RESOLVED, CLOSED, reason, assignee))
        else:
            t += autoclose + rng.randrange(_HOUR)
            reason = self._say(wording.REASON_AUTOCLOSE, language, days=self.ctx.autoclose_days)
            plan.append((t, _S_STATUS, RESOLVED, CLOSED, reason, None))
        return plan

    # --- writing ----------------------------------------------------------------------------

    def add(self, out: CaseRows, t0: int, customer: CustomerProfile) -> None:
        """Plan one case opened at `t0` by `customer` and append its rows to `out`."""
        rng, ctx = self.rng, self.ctx
        category = ctx.categories[
            rng.choices(
                range(len(ctx.categories)), cum_weights=ctx.category_weights[customer.segment]
            )[0]
        ]
        channel = self._channel(customer)
        names, cumulative = self._priorities.get(
            category.profile, self._priorities[PROFILE_ENQUIRY]
        )
        priority = rng.choices(names, cum_weights=cumulative)[0]
        if customer.tier in {"diamond", "platinum"} and rng.random() < 0.3:
            priority = PRIORITY_BUMP[priority]
        team = self._team(category, customer.language)
        assignee = self._member(team)
        subject = self._subject(category, customer)
        plan = self._plan(t0, category, customer, channel, subject, team, assignee)
        # Monotonic times, cut at now; a few cases stall in the backlog part-way.
        now = ctx.now
        last = t0
        kept = len(plan)
        for index, step in enumerate(plan):
            when = step[0]
            if when < last:
                plan[index] = (last, *step[1:])
            elif when > now:
                kept = index
                break
            else:
                last = when
        if kept > 4 and rng.random() < STALL_SHARE:
            kept = rng.randrange(4, kept)
        del plan[kept:]

        case_id = self.next_case_id
        self.next_case_id += 1
        conversation_id = self.next_conversation_id
        self.next_conversation_id += 1
        fmt = ctx.format_time
        created = fmt(t0)
        events, messages = out.events, out.messages
        event_id, message_id = self.next_event_id, self.next_message_id
        status = NEW
        case_team: int | None = None
        case_assignee: int | None = None
        first_response: str | None = None
        resolved: str | None = None
        closed: str | None = None
        updated = created
        thread = ""
        for step in plan:
            when_text = fmt(step[0])
            kind = step[1]
            if kind == _S_MESSAGE:
                _, _, direction, author, actor, text = step
                external = None
                if direction == INBOUND and channel in WITH_EXTERNAL_IDS:
                    external = (
                        f"<demo.{message_id}@mail.example.com>"
                        if channel == "email"
                        else f"demo-{message_id}"
                    )
                    if not thread and channel == "email":
                        thread = external
                messages.append(
                    (
                        message_id,
                        conversation_id,
                        case_id,
                        direction,
                        channel,
                        author,
                        text,
                        "",
                        external,
                        "",  # history: no outbox delivered these, so no delivery to show
                        when_text,
                    )
                )
                if direction == OUTBOUND and author is not None and first_response is None:
                    first_response = when_text
                events.append(
                    (
                        event_id,
                        case_id,
                        MESSAGE_ADDED,
                        actor,
                        f'{{"message_id": {message_id}, "direction": "{direction}", '
                        f'"channel": "{channel}"}}',
                        when_text,
                    )
                )
                message_id += 1
            elif kind == _S_STATUS:
                _, _, before, after, reason, actor = step
                status = after
                if after == RESOLVED:
                    resolved = when_text
                elif after == CLOSED:
                    closed = when_text
                elif before == RESOLVED:
                    resolved = None
                events.append(
                    (
                        event_id,
                        case_id,
                        STATUS_CHANGED,
                        actor,
                        self._status_data(before, after, reason),
                        when_text,
                    )
                )
            elif kind == _S_ASSIGN:
                _, _, new_team, new_assignee, old_team, old_assignee, actor = step
                case_team, case_assignee = new_team, new_assignee
                events.append(
                    (
                        event_id,
                        case_id,
                        ASSIGNED,
                        actor,
                        f'{{"team_id": {_null(new_team)}, '
                        f'"assignee_id": {_null(new_assignee)}, '
                        f'"previous_team_id": {_null(old_team)}, '
                        f'"previous_assignee_id": {_null(old_assignee)}}}',
                        when_text,
                    )
                )
            else:
                creator = assignee if channel in STAFF_OPENED else None
                events.append(
                    (
                        event_id,
                        case_id,
                        CREATED,
                        creator,
                        f'{{"channel": "{channel}", "priority": "{priority}", '
                        f'"category": {self._category_json[category.id]}, '
                        f'"customer_id": {customer.id}}}',
                        when_text,
                    )
                )
            event_id += 1
            updated = when_text
        self.next_event_id, self.next_message_id = event_id, message_id
        out.conversations.append((conversation_id, case_id, channel, thread, created))
        out.cases.append(
            [
                case_id,
                "",
                subject,
                status,
                priority,
                channel,
                customer.language,
                category.is_complaint,
                category.id,
                customer.id,
                case_team,
                case_assignee,
                assignee if channel in STAFF_OPENED else None,
                None,
                created,
                updated,
                first_response,
                resolved,
                closed,
            ]
        )
        out.years.append(ctx.year_of(t0))
