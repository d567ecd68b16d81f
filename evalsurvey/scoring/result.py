"""The typed result of a cycle for one unit type: every number a page, file or report shows.

One :class:`CycleResult` is built from the stored inputs (the composite run, the satisfaction
analysis, the proposals and reviews, the grading rules) by :mod:`evalsurvey.domain.results.cycle`;
publication freezes it. It becomes JSON only where it is stored (:meth:`CycleResult.to_json`)
and is read back into the same types (:meth:`CycleResult.from_json`), so no reader indexes a
document by key.

Pure: no Flask, no database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from evalsurvey.stats.scores import shared_ranks

FORMAT = 1  # of the stored JSON; bump when a field's meaning changes
SHOWN_DECIMALS = 2  # scores are shown to two decimals: units equal there share a place

# where a unit's standing score comes from
COMPUTED = "composite"  # the stored composite
PROPOSED = "proposed"  # the lower-level body's proposal
REVIEWED = "reviewed"  # the upper level's re-review
PENDING = "pending"  # the composite, while the proposal awaits its mandatory re-review
STALE = "stale"  # the composite, while the proposal or review predates it (confirm again)
SOURCES = (COMPUTED, PROPOSED, REVIEWED, PENDING, STALE)


def shown(points: float | None) -> float | None:
    """``points`` as pages, reports and files show them: rounded to :data:`SHOWN_DECIMALS`."""
    return None if points is None else round(float(points), SHOWN_DECIMALS)


def rank_units(
    scores: Mapping[str, float], decimals: int | None = SHOWN_DECIMALS
) -> dict[str, int]:
    """Competition ranks (1, 2, 2, 4), highest first; equal at ``decimals`` share a place.

    The one ranking rule of results (it calls :func:`evalsurvey.stats.shared_ranks`).
    """
    codes = list(scores)
    if not codes:
        return {}
    ranks = shared_ranks([float(scores[c]) for c in codes], decimals)
    return {c: int(r) for c, r in zip(codes, ranks, strict=True)}


@dataclass(frozen=True)
class Term:
    """One component of a composite: its 0–100 score, weight and share of the result."""

    component: str
    score: float | None
    weight: float
    contribution: float | None


@dataclass(frozen=True)
class Inspection:
    """The scheme's terms for a unit as they stood when the composite was computed."""

    scheme: str  # the scheme version's label
    total: float | None
    elements: Mapping[str, float | None] = field(default_factory=dict)  # element → points
    indicators: Mapping[str, float] = field(default_factory=dict)
    bonus: float | None = None
    penalties: float | None = None
    vetoes: tuple[str, ...] = ()
    barred: tuple[str, ...] = ()  # grades the vetoes bar


@dataclass(frozen=True)
class GroupScore:
    """A rater group's satisfaction with a unit (only groups reaching the minimum n)."""

    group: str
    n_used: int
    score: float
    ci95: tuple[float, float] | None = None


@dataclass(frozen=True)
class Standing:
    """The score that stands for a unit, its place and grade with the grade's reason."""

    unit: str
    name: str
    score: float
    source: str  # one of SOURCES
    rank: int
    grade: str = ""
    label: str = ""
    # for each grade passed over, (grade code, reason code, numbers); then the grade given
    steps: tuple[tuple[str, str, Mapping[str, Any]], ...] = ()
    previous: float | None = None  # the previous comparable cycle's result
    change: float | None = None


@dataclass(frozen=True)
class UnitResult:
    """Everything computed for one unit, and the score that stands for it."""

    unit: str
    name: str
    computed: float | None  # the composite
    computed_rank: int | None
    used_weight: float = 1.0
    missing: tuple[str, ...] = ()
    terms: tuple[Term, ...] = ()
    inspection: Inspection | None = None
    groups: tuple[GroupScore, ...] = ()
    standing: Standing | None = None


@dataclass(frozen=True)
class CycleResult:
    """A cycle's result for one unit type (see the module docstring)."""

    cycle: str
    unit_type: str
    composite_run: int | None  # the stored composite it was built on
    weights: Mapping[str, float]
    missing_policy: str
    min_n: int
    grade_labels: Mapping[str, str]  # grade code → label, best first
    units: tuple[UnitResult, ...]
    # the inputs it was built from, part → digest (see :mod:`evalsurvey.domain.results.cycle`)
    inputs: Mapping[str, str] = field(default_factory=dict)

    def unit_result(self, code: str) -> UnitResult | None:
        return next((u for u in self.units if u.unit == code), None)

    def ranking(self) -> list[Standing]:
        """The standing scores, best first (ties by unit code)."""
        rows = [u.standing for u in self.units if u.standing is not None]
        return sorted(rows, key=lambda s: (s.rank, s.unit))

    def to_json(self) -> dict[str, Any]:
        """The result as plain JSON (for storage only)."""
        return {
            "format": FORMAT,
            "cycle": self.cycle,
            "unit_type": self.unit_type,
            "composite_run": self.composite_run,
            "weights": dict(self.weights),
            "missing_policy": self.missing_policy,
            "min_n": self.min_n,
            "grade_labels": [[c, label] for c, label in self.grade_labels.items()],
            "inputs": dict(self.inputs),
            "units": [_unit_json(u) for u in self.units],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CycleResult:
        """Read back what :meth:`to_json` wrote. Raises ``ValueError`` on another format."""
        if data.get("format") != FORMAT:
            raise ValueError(f"unknown result format {data.get('format')!r}")
        return cls(
            cycle=data["cycle"],
            unit_type=data["unit_type"],
            composite_run=data["composite_run"],
            weights=dict(data["weights"]),
            missing_policy=data["missing_policy"],
            min_n=int(data["min_n"]),
            grade_labels={c: label for c, label in data["grade_labels"]},
            units=tuple(_unit_from(u) for u in data["units"]),
            inputs=dict(data["inputs"]),
        )


def _steps_json(steps) -> list:
    return [[g, code, dict(numbers)] for g, code, numbers in steps]


def _unit_json(u: UnitResult) -> dict[str, Any]:
    s, i = u.standing, u.inspection
    return {
        "unit": u.unit,
        "name": u.name,
        "computed": u.computed,
        "computed_rank": u.computed_rank,
        "used_weight": u.used_weight,
        "missing": list(u.missing),
        "terms": [[t.component, t.score, t.weight, t.contribution] for t in u.terms],
        "inspection": None
        if i is None
        else {
            "scheme": i.scheme,
            "total": i.total,
            "elements": dict(i.elements),
            "indicators": dict(i.indicators),
            "bonus": i.bonus,
            "penalties": i.penalties,
            "vetoes": list(i.vetoes),
            "barred": list(i.barred),
        },
        "groups": [
            [g.group, g.n_used, g.score, None if g.ci95 is None else list(g.ci95)] for g in u.groups
        ],
        "standing": None
        if s is None
        else {
            "score": s.score,
            "source": s.source,
            "rank": s.rank,
            "grade": s.grade,
            "label": s.label,
            "steps": _steps_json(s.steps),
            "previous": s.previous,
            "change": s.change,
        },
    }


def _unit_from(d: Mapping[str, Any]) -> UnitResult:
    i, s = d["inspection"], d["standing"]
    return UnitResult(
        unit=d["unit"],
        name=d["name"],
        computed=d["computed"],
        computed_rank=d["computed_rank"],
        used_weight=d["used_weight"],
        missing=tuple(d["missing"]),
        terms=tuple(Term(c, sc, w, ct) for c, sc, w, ct in d["terms"]),
        inspection=None
        if i is None
        else Inspection(
            scheme=i["scheme"],
            total=i["total"],
            elements=dict(i["elements"]),
            indicators=dict(i["indicators"]),
            bonus=i["bonus"],
            penalties=i["penalties"],
            vetoes=tuple(i["vetoes"]),
            barred=tuple(i["barred"]),
        ),
        groups=tuple(
            GroupScore(g, n, sc, None if ci is None else (ci[0], ci[1]))
            for g, n, sc, ci in d["groups"]
        ),
        standing=None
        if s is None
        else Standing(
            unit=d["unit"],
            name=d["name"],
            score=s["score"],
            source=s["source"],
            rank=s["rank"],
            grade=s["grade"],
            label=s["label"],
            steps=tuple((g, code, dict(n)) for g, code, n in s["steps"]),
            previous=s["previous"],
            change=s["change"],
        ),
    )
