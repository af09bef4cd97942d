"""Held-out splits, shared by the trainer and the benchmarks (no Django here)."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence


def stratified_split(
    rows: Sequence[tuple[str, str]], share: float, seed: int = 0
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(kept, held out): `share` of each label held out, at least one where a label has 3+."""
    by_label: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for row in rows:
        by_label[row[1]].append(row)
    rng = random.Random(seed)  # noqa: S311 - a reproducible split, not a secret
    kept, held = [], []
    for label in sorted(by_label):
        group = by_label[label][:]
        rng.shuffle(group)
        n = round(len(group) * share) if len(group) >= 3 else 0
        held.extend(group[:n])
        kept.extend(group[n:])
    return kept, held
