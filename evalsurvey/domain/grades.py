"""Grades for a cycle: the office's rules per unit type applied to the stored composite."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select

from evalsurvey.domain.composite import latest_composite
from evalsurvey.domain.errors import DomainError
from evalsurvey.domain.units import check_unit_type
from evalsurvey.extensions import db
from evalsurvey.i18n import N_
from evalsurvey.models import Cycle, GradeSetting, Publication
from evalsurvey.scoring.grading import Candidate, GradedUnit, GradingError, grade, parse_rules
from evalsurvey.scoring.result import Standing, UnitResult

# Stars as in the source (seed 002): ≥ 90 five, 80–90 four, 70–80 three, 60–70 two, else one.
DEFAULT_STARS = {"kind": "stars", "bands": [[90, 5], [80, 4], [70, 3], [60, 2], [None, 1]]}

OTHER_RULE_PROBLEM = N_("等级规则有误（{code}）。")
RULE_MESSAGES = {
    "unknown_kind": N_("等级规则的 kind 必须是 stars 或 quota。"),
    "no_rest_band": N_("最后一档必须是其余（下限为 null）。"),
    "no_rest_grade": N_("最后一个等级必须承接其余单位（不设最低分和比例）。"),
    "bad_share": N_("比例必须在 0 到 1 之间。"),
    "bands_not_descending": N_("分档下限必须由高到低。"),
}


def rules_for(cycle: Cycle, unit_type: str) -> dict[str, Any] | None:
    found = db.session.scalar(
        select(GradeSetting).where(
            GradeSetting.cycle_id == cycle.id, GradeSetting.unit_type == unit_type
        )
    )
    return found.rules if found is not None else None


def set_rules(cycle: Cycle, unit_type: str, rules: Any) -> GradeSetting:
    """Store the grading rules for units of ``unit_type`` after checking them. Flushed."""
    check_unit_type(unit_type)
    try:
        parse_rules(rules)
    except GradingError as exc:
        message = RULE_MESSAGES.get(exc.code, OTHER_RULE_PROBLEM)
        raise DomainError(message, "rules", code=exc.code) from None
    found = db.session.scalar(
        select(GradeSetting).where(
            GradeSetting.cycle_id == cycle.id, GradeSetting.unit_type == unit_type
        )
    )
    if found is None:
        found = GradeSetting(cycle_id=cycle.id, unit_type=unit_type, rules=rules)
        db.session.add(found)
    found.rules = rules
    db.session.flush()
    return found


def previous_cycle(cycle: Cycle, unit_type: str) -> Cycle | None:
    """The previous comparable cycle: the latest earlier cycle of the same period kind
    (year, half, quarter, month) with a stored composite for the unit type."""
    earlier = db.session.scalars(
        select(Cycle)
        .where(Cycle.period == cycle.period, Cycle.id < cycle.id)
        .order_by(Cycle.id.desc())
    )
    for other in earlier:
        if latest_composite(other, unit_type) is not None:
            return other
    return None


def previous_scores(cycle: Cycle, unit_type: str) -> dict[str, float]:
    """Each unit's result in the previous comparable cycle (year over year): its standing
    score as published where it was, else the latest stored composite."""
    from evalsurvey.domain.results import computed_scores

    other = previous_cycle(cycle, unit_type)
    if other is None:
        return {}
    published = db.session.scalar(
        select(Publication).where(
            Publication.cycle_id == other.id, Publication.unit_type == unit_type
        )
    )
    if published is not None and published.rows:
        return {row["unit"]: row["score"] for row in published.rows}
    scores = computed_scores(latest_composite(other, unit_type))
    return {u: s for u, s in scores.items() if s is not None}


def grade_labels_of(cycle: Cycle, unit_type: str) -> dict[str, str]:
    """The grades' labels by code, best first ({} without rules)."""
    data = rules_for(cycle, unit_type)
    return {b.code: b.label for b in parse_rules(data).bands} if data else {}


def grade_cycle(cycle: Cycle, unit_type: str) -> dict[str, Standing]:
    """Every graded unit's standing (score, grade, label and the grade's reason) as the
    cycle's result gives it (:func:`.results.cycle_result`): the reviewed, else the
    proposed, else the stored composite score, graded by the cycle's rules."""
    from evalsurvey.domain.results import cycle_result

    result = cycle_result(cycle, unit_type)
    return {s.unit: s for s in (result.ranking() if result else []) if s.grade}


def grade_units(
    cycle: Cycle,
    unit_type: str,
    units: Sequence[UnitResult],
    scores: Mapping[str, float] | None = None,
) -> dict[str, GradedUnit]:
    """Grade the stored composite's ``units`` on ``scores`` (unit → score) where given,
    else on their computed scores.

    Vetoes recorded in the inspection bar the grades they name; tie-breakers are the
    components of the composite (e.g. ``citizen``) or ``penalties`` (prefix ``-`` for
    lower-is-better). Units without a score are not graded; {} without rules or when the
    rules cannot grade these units (e.g. a tie-breaker they lack).
    """
    data = rules_for(cycle, unit_type)
    if data is None or not units:
        return {}
    rules = parse_rules(data)
    before = previous_scores(cycle, unit_type)
    if scores is None:
        scores = {u.unit: u.computed for u in units if u.computed is not None}
    candidates = []
    for u in units:
        if scores.get(u.unit) is None:
            continue
        ties = {t.component: t.score or 0.0 for t in u.terms}
        ties["penalties"] = -((u.inspection.penalties if u.inspection else None) or 0.0)
        barred = frozenset(u.inspection.barred) if u.inspection else frozenset()
        candidates.append(Candidate(u.unit, scores[u.unit], barred, ties, before.get(u.unit)))
    try:
        return {g.unit: g for g in grade(rules, candidates)}
    except GradingError:
        return {}
