"""Many assigners at once, for the routing tests: each thread walks every case in its own
random order, starting together, and routes whatever is still unassigned."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable

from django.db import connections

from bankdesk.tickets.models import Case


def route_concurrently(
    case_ids: list[int], route: Callable[[Case], object], *, assigners: int = 20
) -> list[BaseException]:
    """Run `assigners` threads over the cases; returns the errors any thread raised."""
    barrier = threading.Barrier(assigners)
    errors: list[BaseException] = []

    def route_all(seed: int) -> None:
        order = case_ids[:]
        random.Random(seed).shuffle(order)
        try:
            barrier.wait()
            for case_id in order:
                case = Case.objects.get(pk=case_id)
                if case.assignee_id is None:
                    route(case)
                # Each routing is one request's work: its connection goes back to the pool, as
                # a request's does (twenty threads share a pool smaller than twenty).
                connections.close_all()
        except BaseException as exc:  # reported to the test; a thread must not die silently
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=route_all, args=(n,)) for n in range(assigners)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors
