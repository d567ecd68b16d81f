"""Grades from scores: star bands, or grades with quotas (a contract), with reasons.

Rules (JSON)::

    {"kind": "stars", "bands": [[90, 5], [80, 4], [70, 3], [60, 2], [null, 1]]}
    {"kind": "quota", "grades": [{"code": "excellent", "label": "优秀", "min_score": 90,
      "max_share": 0.2}, …, {"code": "below", "label": "不达标"}], "tie_break": ["external"]}

Stars: the first band whose bound ≤ score (a score exactly on a bound takes the higher band),
``null`` for the rest; a band a unit is barred from (``star5`` …) passes it to the next.

Quotas: units in descending score (then the tie-breakers, higher is better unless prefixed
``-``); each grade in order takes eligible units (score ≥ its minimum, not barred, not yet
graded) until it holds floor(max_share × N), N the units graded together. When units tied on
score and tie-breakers would cross the quota, all of them go to the next grade and that grade
takes no unit ranked below them: a lower score never overtakes a higher one.

Every grade carries its reason as codes and numbers (``steps``); sentences are made where the
reader's language is known.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


class GradingError(ValueError):
    """Rules that cannot be used: ``code`` says what, ``detail`` the numbers."""

    def __init__(self, code: str, **detail: Any):
        self.code, self.detail = code, detail
        super().__init__(f"{code} {detail}" if detail else code)


@dataclass(frozen=True)
class Band:
    code: str
    label: str
    min_score: float | None  # None: the rest
    max_share: float | None = None  # quotas only; None: no quota


@dataclass(frozen=True)
class Rules:
    kind: str  # stars | quota
    bands: tuple[Band, ...]
    tie_break: tuple[str, ...] = ()
    # stars: a unit that improved on its previous comparable result goes up one star
    promote_on_improvement: bool = False


@dataclass(frozen=True)
class GradedUnit:
    unit: str
    score: float
    grade: str
    label: str
    # why: for each grade passed over, (grade code, reason code, numbers); then the grade given
    steps: tuple[tuple[str, str, Mapping[str, Any]], ...] = field(default_factory=tuple)


def parse_rules(data: Any) -> Rules:
    """Check grading rules and build them. Raises :class:`GradingError`."""
    if not isinstance(data, Mapping):
        raise GradingError("not_an_object")
    kind = data.get("kind")
    if kind == "stars":
        raw = data.get("bands")
        if not isinstance(raw, list) or not raw:
            raise GradingError("no_bands")
        bands, last = [], math.inf
        for i, entry in enumerate(raw):
            if not isinstance(entry, list | tuple) or len(entry) != 2:
                raise GradingError("bad_band", index=i)
            bound, stars = entry
            if not isinstance(stars, int) or isinstance(stars, bool) or stars < 1:
                raise GradingError("bad_stars", index=i)
            if bound is None:
                if i != len(raw) - 1:
                    raise GradingError("rest_not_last", index=i)
            elif not _is_number(bound) or bound >= last:
                raise GradingError("bands_not_descending", index=i)
            else:
                last = bound
            bands.append(Band(f"star{stars}", "★" * stars, None if bound is None else float(bound)))
        if bands[-1].min_score is not None:
            raise GradingError("no_rest_band")
        promote = data.get("promote_on_improvement", False)
        if not isinstance(promote, bool):
            raise GradingError("bad_promote")
        return Rules("stars", tuple(bands), (), promote)
    if kind == "quota":
        raw = data.get("grades")
        if not isinstance(raw, list) or not raw:
            raise GradingError("no_grades")
        bands, codes = [], set()
        for i, g in enumerate(raw):
            if not isinstance(g, Mapping) or not g.get("code"):
                raise GradingError("bad_grade", index=i)
            code = str(g["code"])
            if code in codes:
                raise GradingError("duplicate_grade", grade=code)
            codes.add(code)
            minimum, share = g.get("min_score"), g.get("max_share")
            if minimum is not None and not _is_number(minimum):
                raise GradingError("bad_min_score", grade=code)
            if share is not None and (not _is_number(share) or not 0 <= share <= 1):
                raise GradingError("bad_share", grade=code)
            bands.append(
                Band(
                    code,
                    str(g.get("label") or code),
                    None if minimum is None else float(minimum),
                    None if share is None else float(share),
                )
            )
        last = bands[-1]
        if last.min_score is not None or last.max_share is not None:
            raise GradingError("no_rest_grade", grade=last.code)
        tie = data.get("tie_break") or []
        if not isinstance(tie, list) or not all(isinstance(t, str) and t.strip("-") for t in tie):
            raise GradingError("bad_tie_break")
        return Rules("quota", tuple(bands), tuple(tie))
    raise GradingError("unknown_kind", kind=kind)


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


@dataclass(frozen=True)
class Candidate:
    unit: str
    score: float
    barred: frozenset[str] = frozenset()
    tie: Mapping[str, float] = field(default_factory=dict)  # tie-breaker values
    previous: float | None = None  # the previous comparable result, for year over year


def grade(rules: Rules, units: Sequence[Candidate]) -> list[GradedUnit]:
    """Grade ``units`` together by ``rules`` (output in descending score order)."""
    missing = [
        t.lstrip("-") for t in rules.tie_break if any(t.lstrip("-") not in u.tie for u in units)
    ]
    if missing:
        raise GradingError("missing_tie_break", column=missing[0])

    def key(u: Candidate) -> tuple:
        parts = [-u.score]
        for t in rules.tie_break:
            value = u.tie[t.lstrip("-")]
            parts.append(value if t.startswith("-") else -value)
        return tuple(parts)

    order = sorted(units, key=lambda u: (key(u), u.unit))
    if rules.kind == "stars":
        return [_stars(rules, u) for u in order]
    return _quota(rules, order, key)


def _stars(rules: Rules, u: Candidate) -> GradedUnit:
    steps = []
    for band in rules.bands:
        if band.min_score is not None and u.score < band.min_score:
            steps.append((band.code, "below_min", {"min": band.min_score}))
            continue
        if band.code in u.barred:
            steps.append((band.code, "barred", {}))
            continue
        index = rules.bands.index(band)
        if rules.promote_on_improvement and u.previous is not None and u.score > u.previous:
            higher = rules.bands[index - 1] if index > 0 else None
            if higher is not None and higher.code not in u.barred:
                steps.append((higher.code, "improved", {"previous": u.previous}))
                band = higher
        return GradedUnit(u.unit, u.score, band.code, band.label, tuple(steps))
    last = rules.bands[-1]  # barred from every band: the lowest
    return GradedUnit(u.unit, u.score, last.code, last.label, tuple(steps))


def _quota(rules: Rules, order: list[Candidate], key) -> list[GradedUnit]:
    n = len(order)
    graded: dict[str, GradedUnit] = {}
    steps: dict[str, list] = {u.unit: [] for u in order}
    for band in rules.bands:
        cap = math.inf if band.max_share is None else math.floor(band.max_share * n + 1e-9)
        taken = 0
        pending = [u for u in order if u.unit not in graded]
        groups: list[list[Candidate]] = []
        for u in pending:  # runs of units equal on score and tie-breakers
            if groups and key(groups[-1][0]) == key(u):
                groups[-1].append(u)
            else:
                groups.append([u])
        closed = False
        for group in groups:
            for u in group:
                if closed:
                    steps[u.unit].append((band.code, "quota_full", {"quota": cap}))
            if closed:
                continue
            eligible = []
            for u in group:
                if band.min_score is not None and u.score < band.min_score:
                    steps[u.unit].append((band.code, "below_min", {"min": band.min_score}))
                elif band.code in u.barred:
                    steps[u.unit].append((band.code, "barred", {}))
                else:
                    eligible.append(u)
            if taken + len(eligible) > cap:
                # a tie that would cross the quota goes down whole, and nobody below rises
                reason = "tie_over_quota" if taken < cap else "quota_full"
                for u in eligible:
                    steps[u.unit].append((band.code, reason, {"quota": cap, "tied": len(eligible)}))
                closed = True
                continue
            for u in eligible:
                graded[u.unit] = GradedUnit(
                    u.unit, u.score, band.code, band.label, tuple(steps[u.unit])
                )
            taken += len(eligible)
    return [graded[u.unit] for u in order]
