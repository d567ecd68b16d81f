"""Grades for a cycle: the office's rules per unit type applied to the stored composite."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from evalsurvey.domain.composite import latest_composite
from evalsurvey.domain.errors import DomainError
from evalsurvey.domain.standing import standing_scores
from evalsurvey.domain.units import check_unit_type
from evalsurvey.extensions import db
from evalsurvey.i18n import N_
from evalsurvey.models import Cycle, GradeSetting, Publication
from evalsurvey.scoring.grading import Candidate, GradedUnit, GradingError, grade, parse_rules

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
    """Each unit's result in the previous comparable cycle (year over year): what was
    published where it was, else the latest stored composite."""
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
    run = latest_composite(other, unit_type)
    return {
        u["unit"]: u["score"]
        for u in (run.result["units"] if run else [])
        if u["score"] is not None
    }


def grade_cycle(cycle: Cycle, unit_type: str) -> dict[str, GradedUnit]:
    """Every unit with a standing score (the reviewed, else the proposed, else the latest
    stored composite score; see :mod:`.standing`), graded.

    Vetoes recorded in the inspection bar the grades they name; tie-breakers are the
    components of the composite (e.g. ``citizen``) or ``penalties`` (prefix ``-`` for
    lower-is-better). Units without a score are not graded.
    """
    run = latest_composite(cycle, unit_type)
    scores = {u: s for u, (s, _source) in standing_scores(cycle, unit_type, run).items()}
    return grade_run(cycle, unit_type, run, scores)


def grade_run(
    cycle: Cycle, unit_type: str, run, scores: dict[str, float] | None = None
) -> dict[str, GradedUnit]:
    """The grades of one stored composite run, on ``scores`` (unit → score) where given,
    else on the run's composite scores."""
    data = rules_for(cycle, unit_type)
    if data is None or run is None:
        return {}
    rules = parse_rules(data)
    before = previous_scores(cycle, unit_type)
    if scores is None:
        scores = {e["unit"]: e["score"] for e in run.result["units"] if e["score"] is not None}
    units = []
    for entry in run.result["units"]:
        if scores.get(entry["unit"]) is None:
            continue
        inspection = entry.get("inspection") or {}
        ties = {t["component"]: t["score"] or 0.0 for t in entry["terms"]}
        ties["penalties"] = -(inspection.get("penalties") or 0.0)
        units.append(
            Candidate(
                entry["unit"],
                scores[entry["unit"]],
                frozenset(inspection.get("barred", [])),
                ties,
                before.get(entry["unit"]),
            )
        )
    try:
        return {g.unit: g for g in grade(rules, units)}
    except GradingError:
        return {}
