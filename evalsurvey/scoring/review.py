"""The two-level review: which proposals the upper level re-reviews, and how much the lower
level inflated (the source's 11 five-star proposals of which 4 stood).

Which proposals must be re-reviewed is decided by the scores, never by the grade a body typed:
every proposal whose score or grade reaches the top two grades' range, or whose score differs
from the computed composite by more than a margin, or that has no computed score to compare
with; then a seeded random share of the rest.

Pure functions; the web workflow stores proposals and reviews and calls these.
"""

from __future__ import annotations

import math
import random
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from evalsurvey.scoring.grading import Rules

# why a proposal must be re-reviewed (the codes are stable; sentences are made by the reader)
TOP_SCORE = "top_score"  # its score reaches the top grades' range
TOP_GRADE = "top_grade"  # its grade is one of the top grades
MARGIN = "margin"  # its score differs from the computed composite by more than the margin
NO_COMPOSITE = "no_composite"  # there is no computed score to compare it with
DRAWN = "drawn"  # drawn in the random sample
REASONS = (TOP_SCORE, TOP_GRADE, MARGIN, NO_COMPOSITE, DRAWN)

TOP_N = 2  # the top two grades are re-reviewed in full


@dataclass(frozen=True)
class TopRange:
    """The top grades of some rules and the lowest score in their range."""

    grades: tuple[str, ...]
    floor: float  # −inf when a top grade has no minimum: every score may reach it


def top_range(rules: Rules, n: int = TOP_N) -> TopRange:
    """The top ``n`` grades of ``rules`` and the lowest score that reaches any of them: the
    smallest minimum among them (stars ``[[90, 5], [80, 4], …]``: ★★★★★ and ★★★★ from 80)."""
    top = rules.bands[:n]
    minima = [b.min_score for b in top]
    floor = -math.inf if any(m is None for m in minima) else min(m for m in minima if m is not None)
    return TopRange(tuple(b.code for b in top), floor)


def beyond_margin(score: float, computed: float, margin: float) -> bool:
    """Whether ``score`` differs from ``computed`` by more than ``margin`` points, either way.
    The difference is taken to 6 decimals (the composite's precision), so a difference of
    exactly the margin (75.29 against 70.29 with 5) is within it."""
    return round(abs(score - computed), 6) > margin


@dataclass(frozen=True)
class Proposed:
    """One proposal as the review set sees it."""

    score: float  # the proposed score
    grades: frozenset[str]  # the grade(s) it carries (as stored, as the rules give it now)
    computed: float | None  # the computed composite score; None: none


def mandatory(
    proposals: Mapping[str, Proposed], top: TopRange, margin: float
) -> dict[str, tuple[str, ...]]:
    """The proposals the upper level must re-review, each with its reasons (in the order of
    :data:`REASONS`); the others are not listed. Raises ``ValueError`` for a negative or
    non-finite margin."""
    if not (isinstance(margin, int | float) and math.isfinite(margin) and margin >= 0):
        raise ValueError("margin must be a non-negative number")
    out: dict[str, tuple[str, ...]] = {}
    for unit in sorted(proposals):
        p = proposals[unit]
        reasons = []
        if p.score >= top.floor:
            reasons.append(TOP_SCORE)
        if p.grades & set(top.grades):
            reasons.append(TOP_GRADE)
        if p.computed is None:
            reasons.append(NO_COMPOSITE)
        elif beyond_margin(p.score, p.computed, margin):
            reasons.append(MARGIN)
        if reasons:
            out[unit] = tuple(reasons)
    return out


def review_sample(
    units: Collection[str], always: Collection[str], rate: float, seed: int
) -> list[str]:
    """The units the upper level re-reviews: every unit in ``always`` (the mandatory set, see
    :func:`mandatory`), then a random ``rate`` of the other ``units`` (at least one when there
    are any and the rate is above 0).

    The draw depends only on ``seed`` and the sorted unit codes, so anyone with the seed can
    redraw the same sample. Raises ``ValueError`` for a rate outside [0, 1].
    """
    if not 0 <= rate <= 1:
        raise ValueError("rate must be between 0 and 1")
    top = sorted(set(always))
    rest = sorted(set(units) - set(always))
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
