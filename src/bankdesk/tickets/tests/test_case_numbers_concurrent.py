"""Case numbers stay unique when many people open cases at the same moment."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from bankdesk.tickets.models import Case, CaseNumberSequence
from bankdesk.tickets.services import case_create

THREADS = 8
PER_THREAD = 15


@pytest.mark.django_db(transaction=True)
def test_concurrent_creation_never_repeats_a_number(agent: object) -> None:
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def create_many() -> None:
        try:
            barrier.wait()
            for i in range(PER_THREAD):
                case_create(subject=f"并发 {i}", channel="phone", actor=agent)
        except BaseException as exc:  # reported below; a thread must not die silently
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=create_many) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    numbers = list(Case.objects.values_list("number", flat=True))
    assert len(numbers) == THREADS * PER_THREAD
    assert len(set(numbers)) == len(numbers)
    # The counter moved exactly once per case: no number skipped, none handed out twice.
    assert sum(CaseNumberSequence.objects.values_list("last_value", flat=True)) == len(numbers)
    assert connection.vendor in {"sqlite", "postgresql"}
