"""Iteration helpers the standard library of Python 3.11 lacks."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import TypeVar

T = TypeVar("T")


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Lists of `size` items (the last may be shorter), as `itertools.batched` in 3.12."""
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch
