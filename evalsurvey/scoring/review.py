"""The two-level review: which proposals the upper level re-reviews, and how much the lower
level inflated (the source's 11 five-star proposals of which 4 stood).

Pure functions; the web workflow stores proposals and reviews and calls these.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


def review_sample(
    proposals: Mapping[str, str],
    always: Sequence[str],
    rate: float,
    seed: int,
) -> list[str]:
    """The units the upper level re-reviews: every proposal at a grade in ``always`` (e.g. the
    top two), and a random ``rate`` of the rest (at least one when there are any).

    The draw depends only on ``seed`` and the sorted unit codes, so anyone with the seed can
    redraw the same sample. Raises ``ValueError`` for a rate outside [0, 1].
    """
    if not 0 <= rate <= 1:
        raise ValueError("rate must be between 0 and 1")
    top = sorted(u for u, g in proposals.items() if g in always)
    rest = sorted(u for u, g in proposals.items() if g not in always)
    k = min(len(rest), max(1, math.ceil(rate * len(rest)))) if rest and rate > 0 else 0
    drawn = random.Random(seed).sample(rest, k)
    return top + sorted(drawn)


@dataclass(frozen=True)
class Inflation:
    """Proposed against reviewed, for one lower-level body."""

    units: int  # units reviewed
    proposed: Mapping[str, int]  # grade → count among the reviewed units, as proposed
    reviewed: Mapping[str, int]  # grade → count after review
    mean_difference: float  # mean of proposed − reviewed score (positive: inflated)
    largest_upward: float  # the largest proposed − reviewed
    largest_unit: str | None


def inflation_report(
    proposed: Mapping[str, tuple[float, str]], reviewed: Mapping[str, tuple[float, str]]
) -> Inflation:
    """Compare a body's proposals with the upper level's review, over the units reviewed.

    ``proposed`` and ``reviewed`` map unit → (score, grade). Raises ``ValueError`` when no
    unit was reviewed.
    """
    common = sorted(set(proposed) & set(reviewed))
    if not common:
        raise ValueError("no unit has both a proposal and a review")
    diffs = {u: proposed[u][0] - reviewed[u][0] for u in common}
    largest = max(common, key=lambda u: (diffs[u], u))
    counts_p: dict[str, int] = {}
    counts_r: dict[str, int] = {}
    for u in common:
        counts_p[proposed[u][1]] = counts_p.get(proposed[u][1], 0) + 1
        counts_r[reviewed[u][1]] = counts_r.get(reviewed[u][1], 0) + 1
    return Inflation(
        units=len(common),
        proposed=counts_p,
        reviewed=counts_r,
        mean_difference=sum(diffs.values()) / len(common),
        largest_upward=max(diffs[largest], 0.0),
        largest_unit=largest if diffs[largest] > 0 else None,
    )
