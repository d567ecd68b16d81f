"""Grades for a cycle: the office's rules per unit type applied to the stored composite."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from evalsurvey.domain.assessment.composite import latest_composite
from evalsurvey.domain.errors import DomainError
from evalsurvey.domain.units import check_unit_type
from evalsurvey.extensions import db
from evalsurvey.i18n import N_
from evalsurvey.models import Cycle, GradeSetting, Publication
from evalsurvey.scoring.grading import Candidate, GradedUnit, GradingError, grade, parse_rules
from evalsurvey.scoring.result import Standing, UnitResult

# Stars as in the source (seed 002): ≥ 90 five, 80–90 four, 70–80 three, 60–70 two, else one.
DEFAULT_STARS = {"kind": "stars", "bands": [[90, 5], [80, 4], [70, 3], [60, 2], [None, 1]]}

OTHER_RULE_PROBLEM = N_("等级规则无法使用，请检查各项设置。")
# every GradingError code in words: ``row`` is the band's or grade's place (from 1), ``grade``
# the grade's code, ``column`` a tie-breaker
RULE_MESSAGES = {
    "not_an_object": N_("等级规则的格式不对：应为一组设置。"),
    "unknown_kind": N_("请选择评定方式：星级，或按比例评定等级。"),
    "no_bands": N_("星级至少要有一档。"),
    "bad_band": N_("第 {row} 档应有下限和星数两项。"),
    "bad_stars": N_("第 {row} 档的星数必须是不小于 1 的整数。"),
    "rest_not_last": N_("只有最后一档可以不设下限（其余单位）。"),
    "bands_not_descending": N_("第 {row} 档的下限必须是数字，并低于上一档的下限。"),
    "no_rest_band": N_("最后一档必须是其余（不设下限），承接其他所有单位。"),
    "bad_promote": N_("“较上期有进步的上调一星”只能选是或否。"),
    "no_grades": N_("请至少设置一个等级。"),
    "bad_grade": N_("第 {row} 个等级缺少编码。"),
    "duplicate_grade": N_("等级编码“{grade}”重复了，每个等级的编码必须不同。"),
    "bad_min_score": N_("等级“{grade}”的最低分必须是数字。"),
    "bad_share": N_("等级“{grade}”的最高比例必须在 0 到 100% 之间。"),
    "no_rest_grade": N_("最后一个等级必须承接其余单位（不设最低分和比例）。"),
    "bad_tie_break": N_("同分比较项必须是综合结果的组成部分。"),
    "missing_tie_break": N_("同分比较项“{column}”不是综合结果的组成部分，无法评定等级。"),
}


def rule_problem(exc: GradingError) -> tuple[str, dict[str, Any]]:
    """A :class:`GradingError` as a message (translate it where the language is known) and
    its parameters (a place counted from 1)."""
    params: dict[str, Any] = {k: v for k, v in exc.detail.items() if k in ("grade", "column")}
    if "index" in exc.detail:
        params["row"] = exc.detail["index"] + 1
    return RULE_MESSAGES.get(exc.code, OTHER_RULE_PROBLEM), params


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
        message, params = rule_problem(exc)
        raise DomainError(message, "rules", **params) from None
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
    """The previous comparable cycle: the latest earlier cycle (in the order of
    :func:`.cycles.in_time_order`, an undated cycle's too) of the same period kind (year,
    half, quarter, month) with a stored composite for the unit type."""
    from evalsurvey.domain.cycles import earlier_than

    for other in earlier_than(cycle):
        if other.period == cycle.period and latest_composite(other, unit_type) is not None:
            return other
    return None


def previous_scores(cycle: Cycle, unit_type: str) -> dict[str, float]:
    """Each unit's result in the previous comparable cycle (year over year): its standing
    score as published where it was, else the latest stored composite."""
    from evalsurvey.domain.results.cycle import computed_scores

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
    from evalsurvey.domain.results.cycle import cycle_result

    result = cycle_result(cycle, unit_type)
    return {s.unit: s for s in (result.ranking() if result else []) if s.grade}


def grade_units(
    cycle: Cycle,
    unit_type: str,
    units: Sequence[UnitResult],
    scores: Mapping[str, float] | None = None,
    rules: Mapping[str, Any] | None = None,
) -> dict[str, GradedUnit]:
    """Grade the stored composite's ``units`` on ``scores`` (unit → score) where given,
    else on their computed scores.

    Vetoes recorded in the inspection bar the grades they name; tie-breakers are the
    components of the composite (e.g. ``citizen``) or ``penalties`` (prefix ``-`` for
    lower-is-better). Units without a score are not graded; {} without rules or when the
    rules cannot grade these units (e.g. a tie-breaker they lack). ``rules`` grades by rules
    not stored (the editor's preview) instead of the cycle's.
    """
    data = rules if rules is not None else rules_for(cycle, unit_type)
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


@dataclass(frozen=True)
class Preview:
    """How many units each grade of some rules would take on the cycle's current result."""

    counts: tuple[tuple[str, str, int], ...]  # (grade code, label, units), best first
    ungraded: int  # units of the result without a score (not graded)
    problem: str = ""  # a message when the rules grade none of the scored units
    params: Mapping[str, Any] = field(default_factory=dict)
    result: bool = True  # False: no composite computed yet, nothing to count


def preview(cycle: Cycle, unit_type: str, rules: Mapping[str, Any]) -> Preview:
    """Grade the cycle's current result (:func:`.results.current_result`: the standing
    scores before publication) by ``rules`` without storing them. Raises GradingError for
    rules :func:`parse_rules` refuses."""
    from evalsurvey.domain.results.cycle import current_result

    parsed = parse_rules(rules)
    result = current_result(cycle, unit_type)
    if result is None:
        return Preview(tuple((b.code, b.label, 0) for b in parsed.bands), 0, result=False)
    scores = {u.unit: u.standing.score for u in result.units if u.standing is not None}
    graded = grade_units(cycle, unit_type, result.units, scores, rules=rules)
    counts = Counter(g.grade for g in graded.values())
    problem, params = "", {}
    if scores and not graded:
        carried = {t.component for u in result.units for t in u.terms} | {"penalties"}
        missing = [t.lstrip("-") for t in parsed.tie_break if t.lstrip("-") not in carried]
        problem, params = rule_problem(
            GradingError("missing_tie_break", column=missing[0]) if missing else GradingError("")
        )
    return Preview(
        tuple((b.code, b.label, counts.get(b.code, 0)) for b in parsed.bands),
        len(result.units) - len(scores),
        problem,
        params,
    )
