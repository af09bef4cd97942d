"""Public case numbers: C + year + a per-year counter that only ever goes up."""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from bankdesk.tickets.models import CaseNumberSequence

PREFIX = "C"


def case_number_format(year: int, value: int) -> str:
    return f"{PREFIX}{year}{value:07d}"


def case_number_next(at: datetime | None = None) -> str:
    """Take the next number for the year of `at`. Must run inside the creating transaction.

    The UPDATE takes the row lock, so concurrent creators queue on it instead of reading the
    same value; if the caller's transaction rolls back, so does the counter, and the number
    was never seen by anyone.
    """
    year = timezone.localtime(at or timezone.now()).year
    for _attempt in range(3):
        updated = CaseNumberSequence.objects.filter(year=year).update(
            last_value=F("last_value") + 1
        )
        if updated:
            value = CaseNumberSequence.objects.values_list("last_value", flat=True).get(year=year)
            return case_number_format(year, value)
        try:
            with transaction.atomic():
                CaseNumberSequence.objects.create(year=year, last_value=1)
            return case_number_format(year, 1)
        except IntegrityError:
            continue  # another creator made this year's row first; take the UPDATE path
    raise RuntimeError("could not allocate a case number")  # pragma: no cover
