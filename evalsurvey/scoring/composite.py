"""The composite result: component scores (0–100) weighted into one, every term shown.

Components are the inspection (the scheme total on 0–100), the panel and each rater
group's satisfaction, e.g. inspection 0.6 + panel 0.2 + citizens 0.2. The missing-component
policy is explicit (see :func:`evalsurvey.stats.combine`): ``renormalize`` spreads the
weight over the components a unit has; ``require`` gives no composite without them all.
Either way the missing components are listed.

The satisfaction share may be split between internal and external raters, as the source
documents do ("内外评价相结合"): :func:`split_weights` turns the split into per-group
weights, which are what the composite weighs and what the pages show.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from evalsurvey import stats
from evalsurvey.scoring.result import rank_units

SIDES = ("internal", "external")


def split_weights(
    share: float, sides: Mapping[str, float], groups: Mapping[str, str]
) -> dict[str, float]:
    """Per-group weights from a split of the satisfaction ``share``: each side takes its
    part of the share (``sides``: internal/external, normalised to sum to 1) and divides it
    equally among the groups assigned to it (``groups``: group → side).

    E.g. share 0.4, internal 0.3 / external 0.7, members and leaders internal, citizens
    external: members 0.06, leaders 0.06, citizens 0.28. A side without groups gives no
    weight (the caller refuses a side with a weight and no group). Rounded to 6 places.
    """
    total = sum(sides.get(side, 0.0) for side in SIDES)
    out: dict[str, float] = {}
    for side in SIDES:
        members = [g for g, s in groups.items() if s == side]
        if not members or total <= 0:
            continue
        each = share * sides.get(side, 0.0) / total / len(members)
        for g in members:
            out[g] = round(each, 6)
    return out


@dataclass(frozen=True)
class Term:
    component: str
    score: float | None  # 0–100, None when the unit lacks it
    weight: float  # as configured, normalised to sum to 1
    contribution: float | None  # weight / used weight × score: the terms add up to the result


@dataclass(frozen=True)
class CompositeResult:
    unit: str
    score: float | None
    rank: int | None
    terms: tuple[Term, ...]
    missing: tuple[str, ...]
    used_weight: float  # the share of the weight present (1 when nothing is missing)


def composite(
    parts: Mapping[str, Mapping[str, float | None]],
    weights: Mapping[str, float],
    missing: str = "renormalize",
) -> list[CompositeResult]:
    """Combine ``parts[component][unit]`` (0–100) with ``weights``; rank the units scored.

    Raises ``ValueError`` as :func:`evalsurvey.stats.combine` does (weights and parts must
    name the same components, weights non-negative and not all zero, a known policy).
    """
    units = sorted({u for scores in parts.values() for u in scores})
    arrays = {
        c: np.array(
            [np.nan if parts[c].get(u) is None else float(parts[c][u]) for u in units],
            dtype=np.float64,
        )
        for c in parts
    }
    result = stats.combine(arrays, dict(weights), missing=missing)
    out = []
    scored = {}
    for i, unit in enumerate(units):
        used = float(result.used_weight[i])
        value = float(result.score[i])
        terms = []
        for c in parts:
            s = arrays[c][i]
            w = result.weights[c]
            present = not math.isnan(s)
            share = w / used if used > 0 and not math.isnan(value) else math.nan
            terms.append(
                Term(
                    c,
                    float(s) if present else None,
                    w,
                    round(share * s, 6) if present and not math.isnan(share) else None,
                )
            )
        score = None if math.isnan(value) else round(value, 6)
        if score is not None:
            scored[unit] = score
        out.append(CompositeResult(unit, score, None, tuple(terms), tuple(result.missing[i]), used))
    ranks = rank_units(scored)
    return [
        CompositeResult(r.unit, r.score, ranks.get(r.unit), r.terms, r.missing, r.used_weight)
        for r in out
    ]
