"""What every reply reads and rarely changes — the active intents and the published FAQ
answers — read in two queries and held per process for a couple of seconds.

A reply would otherwise spend more time building these from the database than the model
spends understanding the message. Changes reach every process within CHECK_EVERY_SECONDS
(as a newly trained model does); in the process that made them, at once (`forget`).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from bankdesk.assistant.models import Intent
from bankdesk.knowledge.models import ArticleVersion
from bankdesk.knowledge.selectors import Entry, faq_choose, published_faqs

CHECK_EVERY_SECONDS = 2.0


@dataclass
class Catalog:
    intents: dict[str, Intent]
    faqs: dict[str, dict[str, ArticleVersion]]
    risk: frozenset[str]
    built_at: float
    _answers: dict[tuple[str, str], Entry | None] = field(default_factory=dict)

    @property
    def answerable(self) -> frozenset[str]:
        return frozenset(self.faqs)

    def answer(self, intent: str, language: str) -> Entry | None:
        """Chosen (and converted to the other script) once per catalogue."""
        key = (intent, language)
        if key not in self._answers:
            self._answers[key] = faq_choose(self.faqs.get(intent, {}), language)
        return self._answers[key]


_lock = threading.Lock()
_current: Catalog | None = None


def _build() -> Catalog:
    intents = {i.code: i for i in Intent.objects.filter(is_active=True)}
    risk = frozenset(code for code, intent in intents.items() if intent.is_risk)
    return Catalog(intents, published_faqs(), risk, time.monotonic())


def catalog() -> Catalog:
    global _current
    current = _current
    if current is None or time.monotonic() - current.built_at >= CHECK_EVERY_SECONDS:
        with _lock:
            current = _current = _build()
    return current


def forget() -> None:
    """Read everything afresh on the next reply (after a change made in this process)."""
    global _current
    _current = None
