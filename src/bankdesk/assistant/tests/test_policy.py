"""The dialogue policy's order of decisions, on hand-made predictions."""

from __future__ import annotations

import pytest

from bankdesk.assistant.choices import Action
from bankdesk.assistant.nlu import Prediction
from bankdesk.assistant.policy import Decision, decide
from bankdesk.assistant.signals import read_signals

ANSWERABLE = frozenset({"card_arrival", "card_delivery_estimate", "change_pin"})
RISK = frozenset({"complaint"})


def _prediction(*ranked: tuple[str, float], oos: bool = False) -> Prediction:
    return Prediction(ranked=ranked, out_of_scope=oos, oos_score=0.9 if oos else 0.1, language="en")


def _decide(
    text: str, prediction: Prediction, pending: list[str] | None = None, misses: int = 0
) -> Decision:
    return decide(
        text=text,
        prediction=prediction,
        signals=read_signals(text),
        risk_intents=RISK,
        answerable=ANSWERABLE,
        pending=pending or [],
        misses=misses,
    )


def test_confident_answers() -> None:
    decision = _decide("change pin", _prediction(("change_pin", 0.9), ("card_arrival", 0.05)))
    assert decision == Decision(Action.ANSWER, "change_pin", 0.9)


def test_close_intents_get_a_question_and_the_choice_is_answered() -> None:
    close = _prediction(("card_arrival", 0.46), ("card_delivery_estimate", 0.40))
    decision = _decide("my card", close)
    assert decision.action == Action.CLARIFY
    assert decision.choices == ("card_arrival", "card_delivery_estimate")
    pending = list(decision.choices)
    nothing = _prediction(("change_pin", 0.3), oos=True)
    assert _decide("2", nothing, pending).intent == "card_delivery_estimate"
    assert _decide("第一个", nothing, pending).intent == "card_arrival"
    # Answering in words: the classifier's pick among the two.
    words = _prediction(("card_delivery_estimate", 0.7), ("card_arrival", 0.2))
    assert _decide("how long does delivery take", words, pending).action == Action.ANSWER


def test_a_person_when_asked_even_when_confident() -> None:
    decision = _decide("human please, about my pin", _prediction(("change_pin", 0.95)))
    assert decision.action == Action.HANDOFF and decision.reason == "asked_for_person"


def test_risk_goes_to_a_person_urgently() -> None:
    complaint = _decide("I want to complain", _prediction(("complaint", 0.6), ("change_pin", 0.1)))
    assert complaint.action == Action.HANDOFF and complaint.urgent
    regulator = _decide("I'll go to the ombudsman", _prediction(("change_pin", 0.9)))
    assert regulator.reason == "regulator_named" and regulator.urgent
    angry = _decide("USELESS!! fed up", _prediction(("change_pin", 0.9)))
    assert angry.reason == "anger"


def test_unsure_twice_in_a_row_goes_to_a_person() -> None:
    unsure = _prediction(("change_pin", 0.2), ("card_arrival", 0.19), oos=True)
    assert _decide("blah", unsure).action == Action.FALLBACK
    second = _decide("blah blah", unsure, misses=1)
    assert second.action == Action.HANDOFF and second.reason == "unsure"


def test_an_intent_with_no_published_answer_goes_to_a_person() -> None:
    decision = _decide("exchange", _prediction(("exchange_rate", 0.95)))
    assert decision.action == Action.HANDOFF and decision.reason == "no_published_answer"


@pytest.mark.parametrize("text", ["", "😀"])
def test_no_prediction_at_all(text: str) -> None:
    assert _decide(text, Prediction((), True, 1.0, "en")).action == Action.FALLBACK
