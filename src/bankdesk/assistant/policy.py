"""The dialogue policy: from what was understood to what the assistant does, in order.

1. A person asked for (人工, 转人工, agent, human …)            → hand off
2. Risk: a regulator, the press or the law named; a complaint made in so many words; anger;
   an intent marked as risk (a complaint, fraud)                → hand off, priority raised
   (a complaint, or a regulator named, goes to the complaint process)
3. A clarifying question was pending and the customer chose     → answer the choice
4. Out of scope, or too unsure to answer                        → say so once; the second
                                                                  time in a row, hand off
5. Two intents too close to call                                → ask which one
6. Confident                                                    → answer from the published FAQ
   (no published answer for that intent                         → hand off)

Pure: no database, no clock; the service feeds it and carries out the decision.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bankdesk.assistant.choices import Action, HandoffReason
from bankdesk.assistant.nlu import Prediction
from bankdesk.assistant.signals import Signals
from bankdesk.lib.chinese import fold

# Top intent's probability needed to answer, and the lead over the runner-up it needs.
ANSWER_CONFIDENCE = 0.45
ANSWER_MARGIN = 0.2
# Both candidates together must be this likely to be worth a clarifying question.
CLARIFY_TOGETHER = 0.55
MISSES_BEFORE_HANDOFF = 2
# The intent of a complaint (assistant/seed.py): recognised, it goes to the complaint process.
COMPLAINT_INTENT = "complaint"

FIRST = re.compile(r"^\s*(?:1|一|第一个?|第一种|first|the first( one)?|option 1|a)\s*[.。!！]?\s*$")
SECOND = re.compile(
    r"^\s*(?:2|二|第二个?|第二种|second|the second( one)?|option 2|b)\s*[.。!！]?\s*$"
)


@dataclass(frozen=True)
class Decision:
    action: str  # Action
    intent: str = ""
    confidence: float = 0.0
    choices: tuple[str, ...] = ()
    reason: str = ""
    urgent: bool = False
    # The matter goes to the complaint process: said to be a complaint, a regulator named, or
    # the complaint intent recognised.
    complaint: bool = False


def chosen(text: str, pending: list[str], prediction: Prediction) -> str | None:
    """Which of the two offered intents the customer's answer picks, if it picks one."""
    folded = fold(text)
    if FIRST.match(folded):
        return pending[0]
    if SECOND.match(folded):
        return pending[1]
    if not prediction.out_of_scope and prediction.ranked and prediction.ranked[0][0] in pending:
        return prediction.ranked[0][0]
    return None


def decide(
    *,
    text: str,
    prediction: Prediction,
    signals: Signals,
    risk_intents: frozenset[str],
    answerable: frozenset[str],
    pending: list[str],
    misses: int,
) -> Decision:
    top, confidence = prediction.ranked[0] if prediction.ranked else ("", 0.0)
    second, second_confidence = prediction.ranked[1] if len(prediction.ranked) > 1 else ("", 0.0)
    in_scope = not prediction.out_of_scope
    complaint = signals.is_complaint or (
        in_scope and top == COMPLAINT_INTENT and confidence >= ANSWER_CONFIDENCE / 2
    )
    if signals.wants_person:
        # What the matter seems to be, for the person taking over — only when it is clear.
        clear = in_scope and confidence >= ANSWER_CONFIDENCE
        return Decision(
            Action.HANDOFF,
            top if clear else "",
            confidence,
            reason=HandoffReason.ASKED,
            complaint=complaint,
            urgent=complaint,
        )
    if signals.regulator:
        return Decision(
            Action.HANDOFF,
            top,
            confidence,
            reason=HandoffReason.REGULATOR,
            urgent=True,
            complaint=True,
        )
    if signals.complaint:
        return Decision(
            Action.HANDOFF,
            top,
            confidence,
            reason=HandoffReason.COMPLAINT,
            urgent=True,
            complaint=True,
        )
    if signals.is_angry:
        return Decision(
            Action.HANDOFF,
            top,
            confidence,
            reason=HandoffReason.ANGER,
            urgent=True,
            complaint=complaint,
        )
    if in_scope and top in risk_intents and confidence >= ANSWER_CONFIDENCE / 2:
        return Decision(
            Action.HANDOFF,
            top,
            confidence,
            reason=HandoffReason.RISK_INTENT,
            urgent=True,
            complaint=complaint,
        )
    if len(pending) == 2:
        picked = chosen(text, pending, prediction)
        if picked is not None:
            return _answer(picked, confidence if picked == top else 1.0, answerable)
    close = (
        in_scope
        and second
        and confidence + second_confidence >= CLARIFY_TOGETHER
        and confidence - second_confidence < ANSWER_MARGIN
        and top in answerable
        and second in answerable
    )
    if close:
        return Decision(Action.CLARIFY, top, confidence, choices=(top, second))
    if not in_scope or confidence < ANSWER_CONFIDENCE:
        if misses + 1 >= MISSES_BEFORE_HANDOFF:
            return Decision(Action.HANDOFF, "", confidence, reason=HandoffReason.UNSURE)
        return Decision(Action.FALLBACK, "", confidence)
    return _answer(top, confidence, answerable)


def _answer(intent: str, confidence: float, answerable: frozenset[str]) -> Decision:
    if intent not in answerable:
        return Decision(Action.HANDOFF, intent, confidence, reason=HandoffReason.NO_ANSWER)
    return Decision(Action.ANSWER, intent, confidence)
