"""Each unit's composite result: inspection, panel and satisfaction combined with the
cycle's weights, stored as a run so the numbers a unit saw can be reproduced."""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import defer

from evalsurvey.domain.assessment.schemes import unit_type_results
from evalsurvey.domain.errors import DomainError
from evalsurvey.domain.results.analysis import latest_runs
from evalsurvey.domain.results.cycle import computed_scores, forget, result_inputs
from evalsurvey.domain.units import check_unit_type
from evalsurvey.extensions import db
from evalsurvey.models import AnalysisRun, CompositeSetting, Cycle, RaterGroup
from evalsurvey.scoring.composite import SIDES, composite, split_weights
from evalsurvey.stats.weighting import MISSING_POLICIES

INSPECTION = "inspection"  # the scheme total, on 0–100
CYCLE_PREFIX = "cycle:"  # another cycle's composite: monthly or quarterly results roll up


def components(cycle: Cycle | None = None) -> list[str]:
    """What a composite can weigh: the inspection, every rater group, and (for rolling
    monthly or quarterly results up into a year) the composite of every other cycle."""
    names = [INSPECTION, *db.session.scalars(select(RaterGroup.code).order_by(RaterGroup.id))]
    others = select(Cycle.code).order_by(Cycle.id)
    if cycle is not None:
        others = others.where(Cycle.id != cycle.id)
    return names + [CYCLE_PREFIX + code for code in db.session.scalars(others)]


def setting(cycle: Cycle, unit_type: str) -> CompositeSetting | None:
    return db.session.scalar(
        select(CompositeSetting).where(
            CompositeSetting.cycle_id == cycle.id, CompositeSetting.unit_type == unit_type
        )
    )


def set_weights(
    cycle: Cycle,
    unit_type: str,
    weights: dict[str, float],
    missing: str = "renormalize",
    split: dict[str, Any] | None = None,
) -> CompositeSetting:
    """Configure the composite for units of ``unit_type``: weights (zero leaves a component
    out), the missing-component policy and, optionally, a split of the satisfaction share
    between internal and external groups (``split``: ``share``, ``internal``, ``external``
    and ``groups``, group → side), which becomes per-group weights beside ``weights``
    (:func:`evalsurvey.scoring.composite.split_weights`). Flushed."""
    check_unit_type(unit_type)
    known = set(components(cycle))
    weights = {k: float(v) for k, v in weights.items() if v}
    for name, value in weights.items():
        if name not in known:
            raise DomainError("未知的组成部分 {name}。", "weights", name=name)
        if not math.isfinite(value) or value < 0:
            raise DomainError("权重不能为负数。", f"w_{name}")
    if split is not None:
        split = check_split(split, weights)
        derived = split_weights(split["share"], split, split["groups"])
        weights |= {g: w for g, w in derived.items() if w}
    if not weights:
        raise DomainError("权重不能全为 0。", "weights")
    if missing not in MISSING_POLICIES:
        raise DomainError("未知的缺项处理方式。", "missing")
    found = setting(cycle, unit_type)
    if found is None:
        found = CompositeSetting(cycle_id=cycle.id, unit_type=unit_type)
        db.session.add(found)
    found.weights, found.missing, found.split = weights, missing, split
    db.session.flush()
    return found


def check_split(split: dict[str, Any], weights: dict[str, float]) -> dict[str, Any]:
    """The split as stored (numbers as floats), or DomainError by its field: ``split_share``,
    ``split_internal``, ``split_external`` or ``w_<group>`` (a group with its own weight)."""
    groups = set(db.session.scalars(select(RaterGroup.code)))
    values = {}
    for name in ("share", *SIDES):
        value = split.get(name)
        if (
            not isinstance(value, int | float)
            or isinstance(value, bool)
            or not math.isfinite(value)
            or value < 0
        ):
            raise DomainError("请填写不小于 0 的数字。", f"split_{name}")
        values[name] = float(value)
    if values["share"] <= 0:
        raise DomainError("满意度合计权重必须大于 0。", "split_share")
    if values["internal"] + values["external"] <= 0:
        raise DomainError("内部和外部的占比不能都为 0。", "split_internal")
    assigned = {}
    for group, side in (split.get("groups") or {}).items():
        if group not in groups or side not in SIDES:
            raise DomainError("未知的评价群体 {name}。", "split_share", name=group)
        if weights.get(group):
            raise DomainError(
                "该群体已分到内部或外部，不再单独设权重；请清空此处或改为单独设权重。",
                f"w_{group}",
            )
        assigned[group] = side
    sides = set(assigned.values())
    if values["internal"] > 0 and "internal" not in sides:
        raise DomainError("内部占比大于 0，但没有评价群体分到内部。", "split_internal")
    if values["external"] > 0 and "external" not in sides:
        raise DomainError("外部占比大于 0，但没有评价群体分到外部。", "split_external")
    return {**values, "groups": dict(sorted(assigned.items()))}


def parts(cycle: Cycle, unit_type: str, names: list[str]) -> dict[str, dict[str, float | None]]:
    """Each component's 0–100 score per unit: the inspection from the scheme (complete
    units only), the groups from the latest stored analysis run of the unit type."""
    out: dict[str, dict[str, float | None]] = {name: {} for name in names}
    if INSPECTION in out:
        results = unit_type_results(cycle, unit_type)
        if results is not None:
            for code, r in results.units.items():
                out[INSPECTION][code] = (
                    100.0 * r.total / results.scheme.total if r.total is not None else None
                )
    for name in names:
        if name.startswith(CYCLE_PREFIX):
            other = db.session.scalar(select(Cycle).where(Cycle.code == name[len(CYCLE_PREFIX) :]))
            stored = latest_composite(other, unit_type) if other is not None else None
            out[name].update(computed_scores(stored))
    run = latest_runs(cycle).get(unit_type)
    for unit in (run.result or {}).get("units", []) if run else []:
        for name in names:
            if name == INSPECTION or name.startswith(CYCLE_PREFIX):
                continue
            entry = unit["groups"].get(name)
            out[name][unit["unit"]] = entry.get("score") if entry else None
    units = {u for scores in out.values() for u in scores}
    for scores in out.values():
        for u in units:
            scores.setdefault(u, None)
    return out


def run_composite(cycle: Cycle, unit_type: str, actor: str) -> AnalysisRun:
    """Compute and store the composite of every unit of the type. Commits."""
    config = setting(cycle, unit_type)
    if config is None:
        raise DomainError("尚未设置该类单位的综合权重。")
    results = composite(
        parts(cycle, unit_type, list(config.weights)), config.weights, config.missing
    )
    # the scheme's terms as they stood, so the run alone reproduces what a unit saw
    assessed = unit_type_results(cycle, unit_type) if INSPECTION in config.weights else None
    breakdown = {}
    if assessed is not None:
        for code, r in assessed.units.items():
            breakdown[code] = {
                "scheme": assessed.version.label,
                "total": r.total,
                "elements": {c: e.points for c, e in r.elements.items()},
                "indicators": dict(r.indicators),
                "bonus": r.bonus,
                "penalties": r.penalties,
                "vetoes": list(r.vetoes),
                "barred": list(r.barred),
            }
    document = {
        "weights": config.weights,
        "missing_policy": config.missing,
        "split": config.split,
        "units": [
            {
                "unit": r.unit,
                "score": r.score,
                "rank": r.rank,
                "used_weight": round(r.used_weight, 6),
                "inspection": breakdown.get(r.unit),
                "missing": list(r.missing),
                "terms": [
                    {
                        "component": t.component,
                        "score": None if t.score is None else round(t.score, 4),
                        "weight": round(t.weight, 6),
                        "contribution": t.contribution,
                    }
                    for t in r.terms
                ],
            }
            for r in sorted(results, key=lambda r: (r.rank is None, r.rank or 0, r.unit))
        ],
    }
    analysis = latest_runs(cycle).get(unit_type)
    run = AnalysisRun(
        cycle_id=cycle.id,
        kind="composite",
        unit_type=unit_type,
        created_by=actor,
        # what it was built from, so a later change shows it out of date (.results)
        options={
            "weights": config.weights,
            "missing": config.missing,
            # how the office set the satisfaction share (the weights above are what it gave)
            "split": config.split,
            "analysis_run": analysis.id if analysis is not None else None,
            "inputs": result_inputs(cycle, unit_type),
        },
        n_responses=0,
        n_used=0,
        n_suspect=0,
        result=document,
    )
    db.session.add(run)
    db.session.commit()
    forget()
    return run


def latest_composite(cycle: Cycle, unit_type: str) -> AnalysisRun | None:
    """The newest stored composite of the unit type (its document read when first used)."""
    return db.session.scalar(
        select(AnalysisRun)
        .options(defer(AnalysisRun.result))
        .where(
            AnalysisRun.cycle_id == cycle.id,
            AnalysisRun.kind == "composite",
            AnalysisRun.unit_type == unit_type,
        )
        .order_by(AnalysisRun.id.desc())
        .limit(1)
    )


def run_of(run_id: int) -> AnalysisRun | None:
    """A stored run by id, its document read only when used (pages show who and when)."""
    return db.session.scalar(
        select(AnalysisRun).options(defer(AnalysisRun.result)).where(AnalysisRun.id == run_id)
    )
