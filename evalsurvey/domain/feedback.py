"""The one-to-one feedback report (一对一反馈): everything a unit is told about its result.

:func:`unit_reports` builds one document (plain JSON) per unit from a stored composite run,
the findings, the satisfaction analysis and the grades. Publication freezes these documents
(:mod:`.publication`), so a finding changed later alters no published report; before that the
office previews them live. The rectification items are the one live part: they are the
follow-up of the result, not the result.

Privacy: satisfaction is shown only for groups with at least the minimum n; comments only
from groups a unit may read (``visible_to_unit``), only where that group reached the minimum
n, sorted by their text (never in time order) and without any respondent's id or time.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from evalsurvey.domain.analysis import latest_runs
from evalsurvey.domain.grades import previous_scores, rules_for
from evalsurvey.domain.schemes import cycle_scheme, scheme_of
from evalsurvey.domain.standing import standing_scores
from evalsurvey.extensions import db
from evalsurvey.models import (
    Adjustment,
    AnalysisRun,
    Cycle,
    Finding,
    RaterGroup,
    RectificationItem,
    Response,
    ResponseStatus,
    Unit,
)
from evalsurvey.scoring.grading import GradedUnit, parse_rules
from evalsurvey.scoring.points import shared_ranks

EPS = 1e-9


def standing_rows(
    cycle: Cycle, unit_type: str, run: AnalysisRun, graded: dict[str, GradedUnit]
) -> list[dict[str, Any]]:
    """The ranking on the standing scores: unit, name, score, source, rank, grade, label and
    the grade's reason (codes and numbers), previous result and change. Best first."""
    standing = standing_scores(cycle, unit_type, run)
    ranks = shared_ranks({u: s for u, (s, _src) in standing.items()})
    of_type = select(Unit.code, Unit.name).where(Unit.type == unit_type)
    names = {code: name for code, name in db.session.execute(of_type)}
    before = previous_scores(cycle, unit_type)
    rows = []
    for unit, (score, source) in standing.items():
        g = graded.get(unit)
        previous = before.get(unit)
        rows.append(
            {
                "unit": unit,
                "name": names.get(unit, unit),
                "score": score,
                "source": source,
                "rank": ranks[unit],
                "grade": g.grade if g else "",
                "label": g.label if g else "",
                "steps": [list(step) for step in g.steps] if g else [],
                "previous": previous,
                "change": None if previous is None else round(score - previous, 2),
            }
        )
    return sorted(rows, key=lambda r: (r["rank"], r["unit"]))


def unit_reports(
    cycle: Cycle, unit_type: str, run: AnalysisRun, rows: list[dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """One feedback document per unit in ``rows`` (see the module docstring)."""
    units = {u.code: u for u in db.session.scalars(select(Unit).where(Unit.type == unit_type))}
    entries = {e["unit"]: e for e in run.result["units"]}
    version = cycle_scheme(cycle, unit_type)
    scheme = scheme_of(version) if version is not None else None
    elements = {n.code: n for n in scheme.elements()} if scheme else {}
    extras = {}
    if scheme is not None:
        extras = {e.code: ("bonus", e.title) for e in scheme.bonus}
        extras |= {e.code: ("penalty", e.title) for e in scheme.penalties}
        extras |= {v.code: ("veto", v.title) for v in scheme.vetoes}
    findings: dict[tuple[int, str], Finding] = {
        (f.unit_id, f.element): f
        for f in db.session.scalars(select(Finding).where(Finding.cycle_id == cycle.id))
    }
    analysis = latest_runs(cycle).get(unit_type)
    survey = {u["unit"]: u for u in (analysis.result or {}).get("units", [])} if analysis else {}
    min_n = ((analysis.result or {}).get("settings", {}) if analysis else {}).get("min_n", 5)
    reliability = (analysis.result or {}).get("reliability", {}) if analysis else {}
    groups = {g.code: g for g in db.session.scalars(select(RaterGroup))}
    rules = rules_for(cycle, unit_type)
    grade_labels = {b.code: b.label for b in parse_rules(rules).bands} if rules else {}
    out = {}
    for row in rows:
        unit = units.get(row["unit"])
        entry = entries.get(row["unit"])
        if unit is None or entry is None:
            continue
        inspection = entry.get("inspection") or {}
        deductions = []
        for code, points in (inspection.get("elements") or {}).items():
            node = elements.get(code)
            if node is None or points is None or points >= node.points - EPS:
                continue
            f = findings.get((unit.id, code))
            deductions.append(
                {
                    "element": code,
                    "title": node.title,
                    "points": points,
                    "max": node.points,
                    "lost": round(node.points - points, 4),
                    "value": f.value if f else "",
                    "note": f.note if f else "",
                }
            )
        items = []
        for code, (kind, title) in extras.items():
            f = findings.get((unit.id, code))
            if f is not None and f.value.strip() not in ("", "0"):
                items.append(
                    {"code": code, "kind": kind, "title": title, "value": f.value, "note": f.note}
                )
        rated = survey.get(unit.code, {}).get("groups", {})
        shown = [
            {
                "group": code,
                "name": groups[code].name if code in groups else code,
                "name_en": groups[code].name_en if code in groups else code,
                "n_used": e["n_used"],
                "score": e["score"],
                "ci95": e.get("ci95"),
            }
            for code, e in rated.items()
            if e.get("score") is not None and e.get("n_used", 0) >= min_n
        ]
        readable = [
            groups[g["group"]].id
            for g in shown
            if g["group"] in groups and groups[g["group"]].visible_to_unit
        ]
        out[unit.code] = {
            "unit": unit.code,
            "name": unit.name,
            "parent": unit.parent.name if unit.parent else "",
            "cycle": cycle.code,
            "cycle_name": cycle.name,
            "unit_type": unit_type,
            "of": len(rows),
            **{k: row[k] for k in ("score", "source", "rank", "grade", "label", "steps")},
            **{k: row[k] for k in ("previous", "change")},
            "grade_labels": grade_labels,
            "composite": entry["score"],
            "terms": entry["terms"],
            "missing": entry.get("missing", []),
            "inspection": {
                "scheme": inspection.get("scheme"),
                "title": scheme.title if scheme else "",
                "total": inspection.get("total"),
                "max": scheme.total if scheme else None,
                "bonus": inspection.get("bonus"),
                "penalties": inspection.get("penalties"),
                "vetoes": inspection.get("vetoes", []),
                "barred": inspection.get("barred", []),
            }
            if inspection
            else None,
            "deductions": sorted(deductions, key=lambda d: (-d["lost"], d["element"])),
            "items": items,
            "groups": shown,
            "panel": next((g for g in shown if g["group"] == "panel"), None),
            "agreement": panel_agreement(reliability),
            "comments": _comments(cycle, unit, readable),
            "adjustments": _adjustments(cycle, unit, extras),
        }
    return out


def panel_agreement(reliability: dict) -> dict[str, Any] | None:
    """The panel's agreement across the cycle (ICC and Krippendorff's alpha), if computed."""
    icc = reliability.get("icc") or {}
    if not isinstance(icc, dict) or "error" in icc or not icc:
        return None
    name = "ICC2k" if "ICC2k" in icc else sorted(icc)[0]
    return {
        "group": reliability.get("group"),
        "raters": reliability.get("raters"),
        "units": reliability.get("units"),
        "icc_name": name,
        "icc": icc[name].get("value"),
        "icc_ci95": icc[name].get("ci95"),
        "alpha": reliability.get("krippendorff_alpha"),
    }


def _comments(cycle: Cycle, unit: Unit, group_ids: list[int]) -> list[str]:
    if not group_ids:
        return []
    texts = db.session.scalars(
        select(Response.comment).where(
            Response.cycle_id == cycle.id,
            Response.unit_id == unit.id,
            Response.rater_group_id.in_(group_ids),
            Response.comment != "",
            Response.status != ResponseStatus.EXCLUDED,
        )
    )
    return sorted({t.strip() for t in texts if t.strip()})


def _adjustments(cycle: Cycle, unit: Unit, extras: dict) -> list[dict[str, str]]:
    """Approved consultation adjustments: the item and the office's decision (the
    department's own reason may name people, so it stays with the office)."""
    rows = db.session.scalars(
        select(Adjustment)
        .where(
            Adjustment.cycle_id == cycle.id,
            Adjustment.unit_id == unit.id,
            Adjustment.status == "approved",
        )
        .order_by(Adjustment.id)
    )
    return [
        {
            "item": a.item,
            "title": extras.get(a.item, ("", a.item))[1],
            "value": a.value,
            "decision": a.decision,
        }
        for a in rows
    ]


def rectification_items(cycle: Cycle, unit: Unit) -> list[RectificationItem]:
    """The unit's ledger items of the cycle (live: their status moves after publication)."""
    return list(
        db.session.scalars(
            select(RectificationItem)
            .where(
                RectificationItem.cycle_id == cycle.id,
                RectificationItem.unit_id == unit.id,
                RectificationItem.status != "dropped",
            )
            .order_by(RectificationItem.id)
        )
    )
