"""From findings to points: each element by its rule, then the scheme total and ranks.

Rules (value = what the finding holds):

- ``checklist`` {deduct d}: missing items m → max(0, E − d·m)
- ``tiers`` {tiers [[bound, p], …]}: the points of the highest tier whose bound ≤ value;
  below every bound → 0
- ``rank_tiers`` {order, tiers [[up_to_rank, p], …, [null, p]]}: the value's rank among
  the units scored with the same scheme (ties share the best rank: 1, 2, 2, 4), then the
  first tier whose up_to_rank ≥ rank; null = the rest
- ``per_occurrence`` {points {category: p}, cap c}: Σ p·count, clamped to [−c, c] when a
  cap is given; inside the tree also bounded to [0, E]
- ``survey``: E × score / 100 (score 0–100 from the questionnaires)
- ``manual``: the value itself, in [0, E]

total = Σ element points + min(Σ bonus, bonus_cap) + Σ penalties − Σ veto deductions, with
no floor. An element without a finding is *not assessed*: the unit is then incomplete, its
total is None (``partial`` holds the sum of what was assessed) and it is not ranked.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from evalsurvey.scoring.findings import Finding, check_finding
from evalsurvey.scoring.result import rank_units
from evalsurvey.scoring.schemes import Extra, Node, Rule, Scheme, Veto


@dataclass(frozen=True)
class ElementResult:
    code: str
    points: float | None  # None: not assessed
    max: float
    value: str
    rule: str
    details: Mapping[str, Any] = field(default_factory=dict)  # the numbers behind the points


@dataclass(frozen=True)
class UnitResult:
    unit: str
    total: float | None  # None while incomplete
    partial: float  # the sum of what was assessed
    complete: bool
    rank: int | None
    elements: Mapping[str, ElementResult]
    indicators: Mapping[str, float | None]  # indicator code → points (None if incomplete)
    bonus: float  # after the cap
    bonus_raw: float  # before it
    penalties: float
    vetoes: tuple[str, ...]
    barred: tuple[str, ...]
    not_assessed: tuple[str, ...]
    veto_deduction: float = 0.0

    @property
    def element_points(self) -> float:
        """The sum of the assessed elements' points (before bonus, penalties, vetoes)."""
        return round(sum(e.points for e in self.elements.values() if e.points is not None), 6)


def _element_points(node: Node, value: Any, rank: int | None) -> tuple[float, dict[str, Any]]:
    rule: Rule = node.rule  # type: ignore[assignment]
    e = node.points
    p = rule.params
    if rule.type == "checklist":
        return max(0.0, e - p["deduct"] * value), {"missing": value, "deduct": p["deduct"]}
    if rule.type == "tiers":
        met = [(b, pts) for b, pts in p["tiers"] if b <= value]
        if not met:
            return 0.0, {"below": p["tiers"][0][0]}
        bound, pts = met[-1]
        return pts, {"bound": bound}
    if rule.type == "rank_tiers":
        for up_to, pts in p["tiers"]:
            if up_to is None or rank <= up_to:  # type: ignore[operator]
                return pts, {"rank": rank, "up_to": up_to}
        return 0.0, {"rank": rank}
    if rule.type == "per_occurrence":
        raw = _occurrences(rule, value)
        return min(max(raw, 0.0), e), {"raw": raw}
    if rule.type == "survey":
        return e * value / 100.0, {"score": value}
    return float(value), {}  # manual


def _occurrences(rule: Rule, counts: Mapping[str, int]) -> float:
    raw = sum(rule.params["points"][c] * n for c, n in counts.items())
    cap = rule.params.get("cap")
    if cap is not None:
        raw = max(-cap, min(cap, raw))
    return float(raw)


def score_units(
    scheme: Scheme, findings: Iterable[Finding], units: Iterable[str] = ()
) -> list[UnitResult]:
    """Every unit that has a finding (and every unit in ``units``), scored; complete units
    ranked by total.

    Raises :class:`~evalsurvey.scoring.findings.FindingsError` for a finding that does not
    fit its rule (as :func:`~evalsurvey.scoring.findings.read_findings` would).
    """
    by_unit: dict[str, dict[str, tuple[Finding, Any]]] = defaultdict(dict)
    for unit in units:
        by_unit[unit] = {}
    for f in findings:
        by_unit[f.unit][f.element] = (f, check_finding(scheme, f))
    elements = scheme.elements()
    # rank_tiers: each such element ranks the units' values against each other
    ranks: dict[str, dict[str, int]] = {}
    for node in elements:
        if node.rule is not None and node.rule.type == "rank_tiers":
            values = {
                u: v
                for u, found in by_unit.items()
                if (v := found.get(node.code, (None, None))[1]) is not None
            }
            sign = 1.0 if node.rule.params["order"] == "desc" else -1.0
            ranks[node.code] = rank_units({u: sign * v for u, v in values.items()}, None)
    results = [_unit(scheme, unit, found, ranks) for unit, found in sorted(by_unit.items())]
    totals = {r.unit: r.total for r in results if r.total is not None}
    overall = rank_units(totals)
    return [
        UnitResult(**{**r.__dict__, "rank": overall.get(r.unit)})
        for r in results  # type: ignore[arg-type]
    ]


def _unit(scheme: Scheme, unit: str, found, ranks) -> UnitResult:
    results: dict[str, ElementResult] = {}
    for node in scheme.elements():
        finding, value = found.get(node.code, (None, None))
        if value is None:
            results[node.code] = ElementResult(
                node.code, None, node.points, finding.value if finding else "", node.rule.type
            )
            continue
        rank = ranks.get(node.code, {}).get(unit)
        pts, details = _element_points(node, value, rank)
        results[node.code] = ElementResult(
            node.code, round(pts, 6), node.points, finding.value.strip(), node.rule.type, details
        )
    indicators: dict[str, float | None] = {}

    def total_of(node: Node) -> float | None:
        if node.is_element:
            return results[node.code].points
        parts = [total_of(c) for c in node.children]
        value = None if any(p is None for p in parts) else round(sum(parts), 6)  # type: ignore[arg-type]
        indicators[node.code] = value
        return value

    for top in scheme.indicators:
        total_of(top)
    bonus_raw = sum(_extra(found, e) for e in scheme.bonus)
    bonus = min(bonus_raw, scheme.bonus_cap) if scheme.bonus_cap is not None else bonus_raw
    penalties = sum(_extra(found, e) for e in scheme.penalties)
    vetoes = tuple(v.code for v in scheme.vetoes if found.get(v.code, (None, None))[1] is True)
    deduct = sum(v.deduct for v in scheme.vetoes if v.code in vetoes)
    barred = tuple(sorted({b for v in scheme.vetoes if v.code in vetoes for b in v.bars}))
    missing = tuple(code for code, r in results.items() if r.points is None)
    partial = sum(r.points for r in results.values() if r.points is not None)
    partial = round(partial + bonus + penalties - deduct, 6)
    return UnitResult(
        unit=unit,
        total=None if missing else partial,
        partial=partial,
        complete=not missing,
        rank=None,
        elements=results,
        indicators=indicators,
        bonus=round(bonus, 6),
        bonus_raw=round(bonus_raw, 6),
        penalties=round(penalties, 6),
        vetoes=vetoes,
        barred=barred,
        not_assessed=missing,
        veto_deduction=deduct,
    )


def _extra(found, extra: Extra | Veto) -> float:
    value = found.get(extra.code, (None, None))[1]
    if not value or not isinstance(extra, Extra):
        return 0.0
    return _occurrences(extra.rule, value)
