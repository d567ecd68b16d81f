"""A cycle's result for one unit type, built once, and whether it is still up to date.

:func:`cycle_result` is the one place a unit's numbers come from: the frozen result once
published, else the result built from the latest stored composite run (its terms and scheme
totals as computed), the satisfaction analysis it used (groups at the minimum n), the
proposals and reviews that stand (:mod:`.standing`) and the grades the cycle's rules give
the standing scores. Pages, publication, feedback reports and their PDF, dashboards and
exports read it; none recomputes a part of it. It is built once per transaction, and anew
after any write (a session flush).

Staleness is explicit: a composite run records the digests of the inputs it was built from
(:func:`result_inputs`); :func:`staleness` compares them with the inputs as they are now,
lists units without a composite and proposals or reviews made against an older composite.
Grading rules are not an input of the stored run: before publication grades are always
given by the rules as they are now.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from flask import g, has_app_context
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from evalsurvey.extensions import db
from evalsurvey.models import (
    Adjustment,
    AnalysisRun,
    CompositeSetting,
    Cycle,
    Finding,
    Publication,
    Response,
    ResponseStatus,
    Unit,
)
from evalsurvey.scoring.result import (
    CycleResult,
    GroupScore,
    Inspection,
    Standing,
    Term,
    UnitResult,
    rank_units,
)

# the parts of a composite's inputs (stable codes, shown as sentences on the pages)
FINDINGS, ADJUSTMENTS, ANALYSIS, RESPONSES, WEIGHTS, SCHEME, CYCLES = (
    "findings",
    "adjustments",
    "analysis",
    "responses",
    "weights",
    "scheme",
    "cycles",
)
PARTS = (FINDINGS, ADJUSTMENTS, ANALYSIS, RESPONSES, WEIGHTS, SCHEME, CYCLES)
EPS = 0.005  # half a shown hundredth: a composite that moved less has not moved


def _digest(rows: Any) -> str:
    text = json.dumps(rows, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _unit_ids(unit_type: str) -> dict[int, str]:
    return dict(db.session.execute(select(Unit.id, Unit.code).where(Unit.type == unit_type)).all())


def responses_digest(cycle: Cycle, unit_type: str) -> str:
    """The responses an analysis of the unit type reads, by what a reviewer decided
    (excluded or not, reviewed or not): counts and id sums, so a response added, excluded or
    restored changes it, while the automatic suspect marking after an analysis does not
    (one aggregate query)."""
    out = (Response.status == ResponseStatus.EXCLUDED).label("out")
    rows = db.session.execute(
        select(out, Response.reviewed, func.count(), func.coalesce(func.sum(Response.id), 0))
        .join(Unit, Unit.id == Response.unit_id)
        .where(Response.cycle_id == cycle.id, Unit.type == unit_type)
        .group_by(out, Response.reviewed)
    )
    return _digest(sorted([bool(o), bool(r), int(n), int(t)] for o, r, n, t in rows))


def result_inputs(cycle: Cycle, unit_type: str) -> dict[str, str]:
    """Digests of what a composite of ``unit_type`` is built from, as they are now: the
    findings (approved adjustments enter as findings), the approved adjustments, the
    satisfaction analysis it reads, the weights, the scheme version and other cycles'
    composites it rolls up. (The responses are an input of the analysis: see
    :func:`staleness`.)"""
    from evalsurvey.domain.assessment.composite import CYCLE_PREFIX, latest_composite
    from evalsurvey.domain.assessment.schemes import cycle_scheme
    from evalsurvey.domain.results.analysis import latest_runs

    ids = _unit_ids(unit_type)
    findings = db.session.execute(
        select(Finding.unit_id, Finding.element, Finding.value)
        .where(Finding.cycle_id == cycle.id, Finding.unit_id.in_(list(ids)))
        .order_by(Finding.unit_id, Finding.element)
    )
    adjustments = db.session.execute(
        select(Adjustment.id, Adjustment.unit_id, Adjustment.item, Adjustment.value)
        .where(
            Adjustment.cycle_id == cycle.id,
            Adjustment.unit_id.in_(list(ids)),
            Adjustment.status == "approved",
        )
        .order_by(Adjustment.id)
    )
    setting = db.session.scalar(
        select(CompositeSetting).where(
            CompositeSetting.cycle_id == cycle.id, CompositeSetting.unit_type == unit_type
        )
    )
    analysis = latest_runs(cycle).get(unit_type)
    version = cycle_scheme(cycle, unit_type)
    rolled = {}
    for name in setting.weights if setting is not None else {}:
        if name.startswith(CYCLE_PREFIX):
            other = db.session.scalar(select(Cycle).where(Cycle.code == name[len(CYCLE_PREFIX) :]))
            run = latest_composite(other, unit_type) if other is not None else None
            rolled[name] = run.id if run is not None else None
    return {
        FINDINGS: _digest([[ids[u], e, v] for u, e, v in findings]),
        ADJUSTMENTS: _digest([[i, ids[u], item, v] for i, u, item, v in adjustments]),
        ANALYSIS: str(analysis.id) if analysis is not None else "",
        WEIGHTS: _digest([setting.weights, setting.missing] if setting else None),
        SCHEME: str(version.id) if version is not None else "",
        CYCLES: _digest(rolled),
    }


# --- building the result ---------------------------------------------------------------


def _cache() -> dict:
    if not has_app_context():
        return {}
    if "results_cache" not in g:
        g.results_cache = {}
    return g.results_cache


def forget() -> None:
    """Drop what this request has built (after a write that changes a result)."""
    if has_app_context():
        g.pop("results_cache", None)


def _forget(*_args) -> None:
    # any write may change an input (a finding, a rule, a proposal), and a new transaction
    # may see other processes' writes: build anew after either
    forget()


for _event in ("after_flush", "after_begin"):
    if not event.contains(Session, _event, _forget):
        event.listen(Session, _event, _forget)


def computed_units(run: AnalysisRun | None) -> tuple[UnitResult, ...]:
    """The stored composite run's units as typed records, without standing scores or
    satisfaction groups (read once per request and run)."""
    if run is None:
        return ()
    cache = _cache()
    key = ("computed", run.id)
    if key not in cache:
        out = []
        for e in (run.result or {}).get("units", []):
            i = e.get("inspection")
            out.append(
                UnitResult(
                    unit=e["unit"],
                    name=e["unit"],
                    computed=e["score"],
                    computed_rank=e.get("rank"),
                    used_weight=e.get("used_weight", 1.0),
                    missing=tuple(e.get("missing", ())),
                    terms=tuple(
                        Term(t["component"], t["score"], t["weight"], t["contribution"])
                        for t in e.get("terms", ())
                    ),
                    inspection=None
                    if not i
                    else Inspection(
                        scheme=i.get("scheme") or "",
                        total=i.get("total"),
                        elements=dict(i.get("elements") or {}),
                        indicators=dict(i.get("indicators") or {}),
                        bonus=i.get("bonus"),
                        penalties=i.get("penalties"),
                        vetoes=tuple(i.get("vetoes") or ()),
                        barred=tuple(i.get("barred") or ()),
                    ),
                )
            )
        cache[key] = tuple(out)
    return cache[key]


def computed_scores(run: AnalysisRun | None) -> dict[str, float | None]:
    """Each unit of the stored composite and its computed score (None where it has none)."""
    return {u.unit: u.computed for u in computed_units(run)}


def run_parts(run: AnalysisRun | None, *keys: str) -> dict[str, Any]:
    """Top-level parts of a stored run's document (``settings``, ``units``…), each None
    where it has none. The database picks them out: a satisfaction analysis also holds an
    entry per response, megabytes a page that needs its units must not decode. Read once
    per request and run."""
    if run is None:
        return dict.fromkeys(keys)
    if "result" in run.__dict__:  # the whole document is read already
        return {k: (run.result or {}).get(k) for k in keys}
    cache = _cache()
    key = ("parts", run.id, keys)
    if key not in cache:
        row = db.session.execute(
            select(*(AnalysisRun.result[k] for k in keys)).where(AnalysisRun.id == run.id)
        ).one()
        cache[key] = dict(zip(keys, row, strict=True))
    return cache[key]


def _groups(run: AnalysisRun | None) -> tuple[dict[str, tuple[GroupScore, ...]], int]:
    """Satisfaction per unit from a stored analysis run: only groups at the minimum n (the
    group's own where the cycle sets one)."""
    parts = run_parts(run, "settings", "units")
    if not parts["settings"] and not parts["units"]:
        return {}, 5
    min_n = (parts["settings"] or {}).get("min_n", 5)
    own = (parts["settings"] or {}).get("group_min_n") or {}  # a cycle's per group
    out = {}
    for u in parts["units"] or []:
        shown = []
        for code, e in (u.get("groups") or {}).items():
            if e.get("score") is None or e.get("n_used", 0) < own.get(code, min_n):
                continue
            ci = e.get("ci95")
            shown.append(GroupScore(code, int(e["n_used"]), e["score"], tuple(ci) if ci else None))
        out[u["unit"]] = tuple(shown)
    return out, min_n


def cycle_result(cycle: Cycle, unit_type: str) -> CycleResult | None:
    """The result every page and file shows: the published one once published, else the
    current one (:func:`current_result`); None before a composite."""
    from evalsurvey.domain.assessment.publication import publication_of

    published = publication_of(cycle, unit_type)
    if published is not None:
        return published_result(published)
    return current_result(cycle, unit_type)


def published_result(publication: Publication) -> CycleResult:
    """The result as published (publications older than the typed result: from their
    frozen rows)."""
    if publication.result:
        cache = _cache()
        key = ("published", publication.id)
        if key not in cache:
            cache[key] = CycleResult.from_json(publication.result)
        return cache[key]
    units = tuple(
        UnitResult(
            unit=r["unit"],
            name=r["name"],
            computed=None,
            computed_rank=None,
            standing=Standing(
                r["unit"],
                r["name"],
                r["score"],
                r.get("source", "composite"),
                r["rank"],
                r.get("grade", ""),
                r.get("label", ""),
                tuple((s[0], s[1], dict(s[2])) for s in r.get("steps", [])),
                r.get("previous"),
                r.get("change"),
            ),
        )
        for r in publication.rows
    )
    labels = next(iter(publication.reports.values()), {}).get("grade_labels", {})
    return CycleResult(
        publication.cycle.code, publication.unit_type, publication.run_id, {}, "", 5, labels, units
    )


def current_result(cycle: Cycle, unit_type: str) -> CycleResult | None:
    """The result built now from the latest stored composite (see the module docstring)."""
    from evalsurvey.domain.assessment.composite import latest_composite, run_of
    from evalsurvey.domain.assessment.grades import grade_labels_of, grade_units, previous_scores
    from evalsurvey.domain.assessment.standing import standing_scores
    from evalsurvey.domain.results.analysis import latest_runs

    run = latest_composite(cycle, unit_type)
    if run is None:
        return None
    cache = _cache()
    key = ("result", cycle.id, unit_type, run.id)
    if key in cache:
        return cache[key]
    computed = computed_units(run)
    names = dict(
        db.session.execute(select(Unit.code, Unit.name).where(Unit.type == unit_type)).all()
    )
    analysis_id = (run.options or {}).get("analysis_run")
    analysis = run_of(analysis_id) if analysis_id else latest_runs(cycle).get(unit_type)
    groups, min_n = _groups(analysis)
    standing = standing_scores(cycle, unit_type, run)
    scores = {u: s for u, (s, _src) in standing.items()}
    graded = grade_units(cycle, unit_type, computed, scores)
    ranks = rank_units(scores)
    before = previous_scores(cycle, unit_type)
    units = []
    for u in computed:
        name = names.get(u.unit, u.unit)
        row = None
        if u.unit in standing:
            score, source = standing[u.unit]
            got = graded.get(u.unit)
            previous = before.get(u.unit)
            row = Standing(
                u.unit,
                name,
                score,
                source,
                ranks[u.unit],
                got.grade if got else "",
                got.label if got else "",
                tuple(got.steps) if got else (),
                previous,
                None if previous is None else round(score - previous, 2),
            )
        units.append(
            UnitResult(
                unit=u.unit,
                name=name,
                computed=u.computed,
                computed_rank=u.computed_rank,
                used_weight=u.used_weight,
                missing=u.missing,
                terms=u.terms,
                inspection=u.inspection,
                groups=groups.get(u.unit, ()),
                standing=row,
            )
        )
    result = CycleResult(
        cycle=cycle.code,
        unit_type=unit_type,
        composite_run=run.id,
        weights=dict((run.result or {}).get("weights", {})),
        missing_policy=(run.result or {}).get("missing_policy", ""),
        min_n=min_n,
        grade_labels=grade_labels_of(cycle, unit_type),
        units=tuple(units),
        inputs=dict((run.options or {}).get("inputs", {})),
    )
    cache[key] = result
    return result


# --- staleness -------------------------------------------------------------------------


@dataclass(frozen=True)
class Staleness:
    """What keeps the stored result from standing for the cycle as it is now."""

    changed: tuple[str, ...] = ()  # input parts changed since the composite (PARTS)
    missing_units: tuple[str, ...] = ()  # active units of the type the composite lacks
    stale_proposals: tuple[str, ...] = ()  # proposals or reviews made on an older composite

    def __bool__(self) -> bool:
        return bool(self.changed or self.missing_units or self.stale_proposals)

    @property
    def recompute(self) -> bool:
        """A new composite would change something (inputs changed or units missing)."""
        return bool(self.changed or self.missing_units)


def proposal_is_stale(proposal, computed: dict[str, float | None]) -> bool:
    """A proposal made against a composite score that is no longer the unit's (made before
    the score was kept: never stale)."""
    if proposal.computed_run_id is None:
        return False
    now = computed.get(proposal.unit.code)
    was = proposal.computed_score
    if now is None or was is None:
        return now is not was
    return abs(now - was) > EPS


def review_is_stale(proposal, computed: dict[str, float | None]) -> bool:
    """A re-review made against a composite score that is no longer the unit's."""
    if proposal.reviewed_score is None or proposal.reviewed_run_id is None:
        return False
    now, was = computed.get(proposal.unit.code), proposal.reviewed_computed
    if now is None or was is None:
        return now is not was
    return abs(now - was) > EPS


def staleness(cycle: Cycle, unit_type: str) -> Staleness:
    """Compare the latest stored composite with the inputs as they are now (see the module
    docstring). Nothing is stale once published (the publication is frozen) or before a
    composite (there is nothing to be out of date)."""
    from evalsurvey.domain.assessment.composite import latest_composite
    from evalsurvey.domain.assessment.publication import publication_of
    from evalsurvey.domain.assessment.standing import proposals_of
    from evalsurvey.domain.results.analysis import latest_runs

    if publication_of(cycle, unit_type) is not None:
        return Staleness()
    run = latest_composite(cycle, unit_type)
    if run is None:
        return Staleness()
    cache = _cache()
    key = ("stale", cycle.id, unit_type, run.id)
    if key in cache:
        return cache[key]
    stored = (run.options or {}).get("inputs") or {}
    now = result_inputs(cycle, unit_type)
    changed = [p for p in PARTS if p in stored and p in now and stored[p] != now[p]]
    analysis = latest_runs(cycle).get(unit_type)
    seen = (analysis.options or {}).get("responses_digest") if analysis is not None else None
    if seen is not None and seen != responses_digest(cycle, unit_type):
        changed.append(RESPONSES)
    computed = computed_scores(run)
    active = db.session.scalars(
        select(Unit.code).where(Unit.type == unit_type, Unit.active.is_(True)).order_by(Unit.code)
    )
    # units the composite never saw (added or activated after it); a unit it scored as
    # "no score" (too few responses, a required part missing) is a result, not a gap
    missing = tuple(code for code in active if code not in computed)
    stale = tuple(
        sorted(
            code
            for code, p in proposals_of(cycle, unit_type).items()
            if review_is_stale(p, computed)
            or (p.reviewed_score is None and proposal_is_stale(p, computed))
        )
    )
    cache[key] = Staleness(tuple(changed), missing, stale)
    return cache[key]
