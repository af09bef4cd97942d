"""Case numbers stay unique when many people open cases at the same moment."""

from __future__ import annotations

import threading

import pytest
from django.db import OperationalError, connection, connections, transaction
from django.utils import timezone

from bankdesk.sla.clocks import sla_clocks_sync
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


@pytest.mark.postgresql
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs DATABASE_URL (PostgreSQL)")
@pytest.mark.django_db(transaction=True)
def test_a_new_case_is_routed_and_its_clocks_started_before_it_takes_its_number(
    agent: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The year's counter is one row every new case locks until it commits: taken last, other
    creations overlap with this one's routing and clock replay instead of queuing behind it."""
    case_create(subject="第一张", channel="phone", actor=agent)  # the year's counter exists
    year = timezone.localtime().year
    counter_taken_meanwhile: list[bool] = []

    def try_the_counter() -> None:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    "SELECT last_value FROM tickets_casenumbersequence WHERE year = %s "
                    "FOR UPDATE NOWAIT",
                    [year],
                )
            counter_taken_meanwhile.append(True)
        except OperationalError:
            counter_taken_meanwhile.append(False)
        finally:
            connections.close_all()

    def clocks_while_another_desk_opens_a_case(**kwargs: object) -> None:
        thread = threading.Thread(target=try_the_counter)
        thread.start()
        thread.join()
        sla_clocks_sync(**kwargs)

    monkeypatch.setattr(
        "bankdesk.tickets.services.sla_clocks_sync", clocks_while_another_desk_opens_a_case
    )
    case = case_create(subject="第二张", channel="phone", actor=agent)

    assert counter_taken_meanwhile == [True]
    assert case.number == Case.objects.get(pk=case.pk).number
    assert case.number.endswith("0000002")
