"""A cycle's dashboard, as data: the pages draw the charts in the reader's language.

Everything comes from what is stored: the standing scores and grades, the latest analysis
run (groups, flags, minimum n) and the responses' submission times.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from scipy import stats as sps
from sqlalchemy import func, select

from evalsurvey.domain.access import Scope
from evalsurvey.domain.analysis import latest_runs
from evalsurvey.domain.composite import latest_composite
from evalsurvey.domain.feedback import standing_rows
from evalsurvey.domain.grades import grade_cycle
from evalsurvey.extensions import db
from evalsurvey.models import Cycle, RaterGroup, Response, Unit
from evalsurvey.timezones import to_local


@dataclass
class Dashboard:
    ranking: list[dict] = field(default_factory=list)  # standing rows (best first)
    groups: list[dict] = field(default_factory=list)  # code, units, mean, ci95
    gap: list[dict] = field(default_factory=list)  # unit, name, internal, external, gap
    flags: dict[str, int] = field(default_factory=dict)  # reason → responses flagged
    daily: list[tuple[str, int]] = field(default_factory=list)  # local day → submissions
    coverage: list[dict] = field(default_factory=list)  # parent, units, none, too_few
    min_n: int = 5


def _mean_ci(values: list[float]) -> tuple[float, list[float] | None]:
    mean = sum(values) / len(values)
    if len(values) < 2:
        return mean, None
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))
    half = sps.t.ppf(0.975, len(values) - 1) * sd / math.sqrt(len(values))
    return mean, [round(mean - half, 1), round(mean + half, 1)]


def cycle_dashboard(cycle: Cycle, unit_type: str, scope: Scope, gap_points: float = 10.0):
    """The figures of one unit type of ``cycle`` within ``scope``. ``gap_points``: how far
    internal raters (members) must rate a unit above external ones (citizens) to stand out."""
    out = Dashboard()
    units = {
        u.code: u
        for u in db.session.scalars(select(Unit).where(Unit.type == unit_type))
        if scope.sees_unit(u)
    }
    run = latest_composite(cycle, unit_type)
    if run is not None:
        rows = standing_rows(cycle, unit_type, run, grade_cycle(cycle, unit_type))
        out.ranking = [r for r in rows if r["unit"] in units]
    analysis = latest_runs(cycle).get(unit_type)
    result = (analysis.result or {}) if analysis else {}
    out.min_n = result.get("settings", {}).get("min_n", 5)
    internal = {g.code for g in db.session.scalars(select(RaterGroup).where(RaterGroup.internal))}
    by_group: dict[str, list[float]] = {}
    for entry in result.get("units", []):
        if entry["unit"] not in units:
            continue
        inside, outside = [], []
        for code, g in entry.get("groups", {}).items():
            if g.get("score") is None:
                continue
            by_group.setdefault(code, []).append(g["score"])
            (inside if code in internal else outside).append(g["score"])
        if inside and outside:
            i, e = sum(inside) / len(inside), sum(outside) / len(outside)
            out.gap.append({"unit": entry["unit"], "name": units[entry["unit"]].name,
                            "internal": round(i, 1), "external": round(e, 1),
                            "gap": round(i - e, 1), "stands_out": i - e >= gap_points})  # fmt: skip
    for code, values in sorted(by_group.items()):
        mean, ci = _mean_ci(values)
        out.groups.append({"group": code, "units": len(values), "mean": round(mean, 1), "ci95": ci})
    out.gap.sort(key=lambda g: -g["gap"])
    reasons = Counter(
        reason for r in result.get("responses", []) for reason in r.get("reasons", [])
    )
    out.flags = dict(reasons.most_common())
    times = db.session.scalars(
        scope.units(
            select(Response.submitted_at)
            .join(Unit, Unit.id == Response.unit_id)
            .where(Response.cycle_id == cycle.id, Unit.type == unit_type)
        )
    )
    days = Counter(to_local(t).date().isoformat() for t in times)
    out.daily = sorted(days.items())
    rows_by_unit = dict(
        db.session.execute(
            scope.units(
                select(Response.unit_id, func.count())
                .where(Response.cycle_id == cycle.id)
                .group_by(Response.unit_id)
            )
        ).all()
    )
    parents: dict[str, dict] = {}
    for unit in units.values():
        parent = unit.parent.name if unit.parent else "—"
        entry = parents.setdefault(parent, {"parent": parent, "units": 0, "none": [],
                                            "too_few": []})  # fmt: skip
        entry["units"] += 1
        n = rows_by_unit.get(unit.id, 0)
        if n == 0:
            entry["none"].append(unit.name)
        elif n < out.min_n:
            entry["too_few"].append(unit.name)
    out.coverage = sorted(parents.values(), key=lambda p: p["parent"])
    return out
