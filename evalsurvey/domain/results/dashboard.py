"""A cycle's dashboard, as data: the pages draw the charts in the reader's language.

Everything comes from what is stored: the standing scores and grades, the latest analysis
run (groups, flags, minimum n) and the responses' submission times.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from scipy import stats as sps
from sqlalchemy import func, select

from evalsurvey.domain.access import Scope
from evalsurvey.domain.assessment.publication import publication_of, report_of
from evalsurvey.domain.cycles import in_time_order
from evalsurvey.domain.results.analysis import latest_runs
from evalsurvey.domain.results.cycle import cycle_result
from evalsurvey.domain.results.feedback import panel_agreement, rectification_items
from evalsurvey.extensions import db
from evalsurvey.models import Cycle, RaterGroup, Response, ResponseStatus, Unit
from evalsurvey.timezones import to_local


@dataclass
class Dashboard:
    ranking: list[dict] = field(default_factory=list)  # standing rows (best first)
    groups: list[dict] = field(default_factory=list)  # code, units, mean, ci95
    gap: list[dict] = field(default_factory=list)  # unit, name, internal, external, gap
    flags: dict[str, int] = field(default_factory=dict)  # reason → responses flagged
    daily: list[tuple[str, int]] = field(default_factory=list)  # local day → submissions
    coverage: list[dict] = field(default_factory=list)  # parent, units, none, too_few
    change: list[dict] = field(default_factory=list)  # unit, name, previous, score, change
    agreement: dict | None = None  # the panel's ICC and Krippendorff's alpha
    raters: list[dict] = field(default_factory=list)  # rater, n, severity, ci95, reasons
    unit_ids: dict[str, int] = field(default_factory=dict)  # unit code → id (for links)
    min_n: int = 5


def _mean_ci(values: list[float]) -> tuple[float, list[float] | None]:
    mean = sum(values) / len(values)
    if len(values) < 2:
        return mean, None
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))
    half = sps.t.ppf(0.975, len(values) - 1) * sd / math.sqrt(len(values))
    return mean, [round(mean - half, 1), round(mean + half, 1)]


def per_day(times) -> list[tuple[str, int]]:
    """Submissions per local day, from the first day to the last, quiet days as 0 (so a
    chart's x axis is time and a burst stands out against the days around it)."""
    days = Counter(to_local(t).date() for t in times)
    if not days:
        return []
    first, last = min(days), max(days)
    span = (last - first).days + 1
    return [
        ((first + timedelta(days=i)).isoformat(), days.get(first + timedelta(days=i), 0))
        for i in range(span)
    ]


def cycle_dashboard(cycle: Cycle, unit_type: str, scope: Scope, gap_points: float = 10.0):
    """The figures of one unit type of ``cycle`` within ``scope``. ``gap_points``: how far
    internal raters (members) must rate a unit above external ones (citizens) to stand out."""
    out = Dashboard()
    units = {
        u.code: u
        for u in db.session.scalars(select(Unit).where(Unit.type == unit_type))
        if scope.sees_unit(u)
    }
    out.unit_ids = {code: u.id for code, u in units.items()}
    shown = {code for code, u in units.items() if scope.may_see_results(cycle, u)}
    # the cycle's result: the published one, else the standing one (groups at the minimum n)
    cycle_res = cycle_result(cycle, unit_type)
    if cycle_res is not None:
        out.ranking = [r for r in cycle_res.ranking() if r.unit in shown]
        out.change = sorted(
            (r for r in out.ranking if r.change is not None), key=lambda r: -r.change
        )
    analysis = latest_runs(cycle).get(unit_type)
    result = (analysis.result or {}) if analysis else {}
    out.min_n = cycle_res.min_n if cycle_res else result.get("settings", {}).get("min_n", 5)
    internal = {g.code for g in db.session.scalars(select(RaterGroup).where(RaterGroup.internal))}
    by_group: dict[str, list[float]] = {}
    for entry in cycle_res.units if cycle_res else ():
        if entry.unit not in shown or entry.unit not in units:
            continue
        inside, outside = [], []
        for g in entry.groups:
            by_group.setdefault(g.group, []).append(g.score)
            (inside if g.group in internal else outside).append(g.score)
        if inside and outside:
            i, e = sum(inside) / len(inside), sum(outside) / len(outside)
            out.gap.append({"unit": entry.unit, "name": units[entry.unit].name,
                            "internal": round(i, 1), "external": round(e, 1),
                            "gap": round(i - e, 1), "stands_out": i - e >= gap_points})  # fmt: skip
    for code, values in sorted(by_group.items()):
        mean, ci = _mean_ci(values)
        out.groups.append({"group": code, "units": len(values), "mean": round(mean, 1), "ci95": ci})
    out.gap.sort(key=lambda g: -g["gap"])
    if scope.identities:  # raters are named by their ids: never for a unit contact
        out.agreement = panel_agreement(result.get("reliability") or {})
        for r in result.get("raters", []):
            half = 1.96 * (r.get("severity_se") or 0.0)
            out.raters.append({"rater": r["rater"], "group": r["group"], "n": r["n"],
                               "severity": r["severity"], "reasons": r.get("reasons", []),
                               "ci95": [round(r["severity"] - half, 2),
                                        round(r["severity"] + half, 2)]})  # fmt: skip
        out.raters.sort(key=lambda r: -r["severity"])
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
    out.daily = per_day(times)
    out.coverage = coverage(cycle, units.values(), scope, out.min_n)
    return out


def coverage(cycle: Cycle, units, scope: Scope, default: int) -> list[dict]:
    """Per parent unit: its units, those without a response, and those where a rater group
    has fewer responses (not excluded) than the cycle's minimum for that group (``default``
    where the cycle sets none): ``too_few`` holds (unit name, group code, n, minimum)."""
    wanted = cycle.group_min_n or {}
    groups = dict(db.session.execute(select(RaterGroup.id, RaterGroup.code)).all())
    counts: dict[int, dict[str, int]] = {}
    for unit_id, group_id, n in db.session.execute(
        scope.units(
            select(Response.unit_id, Response.rater_group_id, func.count())
            .where(Response.cycle_id == cycle.id, Response.status != ResponseStatus.EXCLUDED)
            .group_by(Response.unit_id, Response.rater_group_id)
        )
    ):
        counts.setdefault(unit_id, {})[groups.get(group_id, "")] = n
    parents: dict[str, dict] = {}
    for unit in units:
        parent = unit.parent.name if unit.parent else "—"
        entry = parents.setdefault(parent, {"parent": parent, "units": 0, "none": [],
                                            "too_few": []})  # fmt: skip
        entry["units"] += 1
        seen = counts.get(unit.id, {})
        if not seen:
            entry["none"].append(unit.name)
        for group, n in sorted(seen.items()):
            least = int(wanted.get(group, default))
            if n < least:
                entry["too_few"].append((unit.name, group, n, least))
    return sorted(parents.values(), key=lambda p: p["parent"])


@dataclass
class UnitDashboard:
    report: dict | None = None  # the feedback document (see :mod:`.feedback`), if readable
    published: bool = False
    counts: list[tuple[str, int]] = field(default_factory=list)  # rater group → responses
    daily: list[tuple[str, int]] = field(default_factory=list)  # local day → submissions
    flags: dict[str, int] = field(default_factory=dict)  # reason → responses (office only)
    # office only, from the latest analysis: the unit's surge days (date, count, expected,
    # distinct) and per rater group its plain mean beside the bounded-influence score and
    # what the surges would have made of it (see stats.surges)
    surges: list[dict] = field(default_factory=list)
    bounded: list[dict] = field(default_factory=list)
    trend: list[dict] = field(default_factory=list)  # cycle, name, score, rank, of, label
    items: list = field(default_factory=list)  # rectification items


@dataclass(frozen=True)
class UnitFlags:
    """What the latest analysis of a unit type found about one unit's responses: how
    many are suspect, responses flagged per reason, and its surge days."""

    analysed_at: datetime
    suspect: int
    reasons: dict[str, int]
    surge_days: int


def unit_flags(cycle: Cycle, unit_type: str) -> dict[str, UnitFlags]:
    """Per unit code, the flags of the newest analysis run of ``unit_type`` (none before
    one ran). Office-only figures: callers check :attr:`Scope.office`."""
    run = latest_runs(cycle).get(unit_type)
    report = (run.result or {}) if run else {}
    if not report:
        return {}
    suspect: Counter = Counter()
    reasons: dict[str, Counter] = {}
    for r in report.get("responses", []):
        suspect[r.get("unit")] += bool(r.get("suspect"))
        reasons.setdefault(r.get("unit"), Counter()).update(r.get("reasons", []))
    return {
        u["unit"]: UnitFlags(
            analysed_at=run.created_at,
            suspect=suspect[u["unit"]],
            reasons=dict(reasons.get(u["unit"], Counter()).most_common()),
            surge_days=len(u.get("surges", [])),
        )
        for u in report.get("units", [])
        if u.get("unit")
    }


def unit_trend(unit: Unit, scope: Scope) -> list[dict]:
    """The unit's result in every cycle, oldest first (:func:`.cycles.in_time_order`):
    what was published, and for whoever may see the results before publication (the
    office) also the standing result of cycles not yet published (marked as such)."""
    out = []
    for cycle in in_time_order():
        published = publication_of(cycle, unit.type)
        if published is None and not scope.may_see_results(cycle, unit):
            continue
        result = cycle_result(cycle, unit.type)
        rows = result.ranking() if result is not None else []
        row = next((r for r in rows if r.unit == unit.code), None)
        if row is None:
            continue
        out.append({"cycle": cycle.code, "name": cycle.name, "score": row.score,
                    "rank": row.rank, "of": len(rows), "label": row.label,
                    "published": published is not None})  # fmt: skip
    return out


def unit_dashboard(cycle: Cycle, unit: Unit, scope: Scope) -> UnitDashboard:
    """One unit's figures in ``cycle`` (the caller has checked ``scope`` sees the unit).

    The figures are its feedback report: the live preview for whoever may see the results
    before publication (the office: :meth:`Scope.may_see_results`), else only the published
    one, so groups below the minimum n and the rows of groups a unit may not read stay out exactly
    as in the report. Counts are always shown.
    """
    out = UnitDashboard()
    report, published = report_of(cycle, unit)
    out.published = published is not None
    if scope.may_see_results(cycle, unit):
        out.report = report
    counts = db.session.execute(
        select(RaterGroup.code, func.count())
        .join(Response, Response.rater_group_id == RaterGroup.id)
        .where(Response.cycle_id == cycle.id, Response.unit_id == unit.id)
        .group_by(RaterGroup.code)
        .order_by(RaterGroup.code)
    )
    out.counts = [(code, n) for code, n in counts]
    times = db.session.scalars(
        select(Response.submitted_at).where(
            Response.cycle_id == cycle.id, Response.unit_id == unit.id
        )
    )
    out.daily = per_day(times)
    if scope.office:
        analysis = latest_runs(cycle).get(unit.type)
        result = (analysis.result or {}) if analysis else {}
        found = unit_flags(cycle, unit.type).get(unit.code)
        out.flags = dict(found.reasons) if found else {}
        mine = next((u for u in result.get("units", []) if u.get("unit") == unit.code), {})
        out.surges = list(mine.get("surges", []))
        out.bounded = [
            {"group": code, **entry}
            for code, entry in sorted(mine.get("groups", {}).items())
            if entry.get("bounded_score") is not None
        ]
    out.trend = unit_trend(unit, scope)
    # items drawn from results reach a contact once published or confirmed
    out.items = [i for i in rectification_items(cycle, unit) if scope.may_see_item(i)]
    return out
