"""Offline intent classification for the bankdesk assistant (pure Python, no Django).

``train(examples)`` learns from ``(text, label)`` pairs in English and Chinese (label ``oos``
marks questions the bank bot should not answer) and returns an :class:`IntentModel`;
``IntentModel.predict(text)`` returns a :class:`Prediction`: the five most likely intents with
probabilities, and whether the message is out of scope.  Models are saved as plain
``.json``/``.npz`` files and run on one CPU core in a few milliseconds per message.
"""

from .model import OUT_OF_SCOPE, IntentModel, Prediction, Settings, train
from .text import detect_language, normalise

__all__ = [
    "OUT_OF_SCOPE",
    "IntentModel",
    "Prediction",
    "Settings",
    "detect_language",
    "normalise",
    "train",
]
