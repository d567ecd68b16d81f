"""The one-to-one feedback report (一对一反馈): everything a unit is told about its result.

:func:`unit_reports` builds one document (plain JSON) per unit from the cycle's typed result
(:mod:`.results`: scores, terms, groups, grades), the findings and the comments. Publication
freezes these documents (:mod:`.publication`), so a finding changed later alters no
published report; before that the office previews them live. The rectification items are
the one live part: they are the follow-up of the result, not the result.

Privacy: satisfaction is shown only for groups with at least the minimum n; comments only
from groups a unit may read (``visible_to_unit``), only where that group reached the minimum
n, sorted by their text (never in time order) and without any respondent's id or time.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from evalsurvey.domain.assessment.schemes import cycle_scheme, scheme_of
from evalsurvey.domain.results.analysis import latest_runs
from evalsurvey.domain.results.shortfalls import seen_by
from evalsurvey.extensions import db
from evalsurvey.models import (
    Adjustment,
    Cycle,
    Finding,
    RaterGroup,
    RectificationItem,
    Response,
    ResponseStatus,
    Unit,
)
from evalsurvey.scoring.result import CycleResult

EPS = 1e-9


def unit_reports(
    cycle: Cycle, unit_type: str, result: CycleResult, only: str | None = None
) -> dict[str, dict[str, Any]]:
    """One feedback document per ranked unit of ``result`` (see the module docstring); with
    ``only``, just that unit's (a unit's PDF builds no other unit's report)."""
    ranking = result.ranking()
    wanted = [s for s in ranking if only is None or s.unit == only]
    if not wanted:
        return {}
    query = select(Unit).where(Unit.type == unit_type)
    if only is not None:
        query = query.where(Unit.code == only)
    units = {u.code: u for u in db.session.scalars(query)}
    version = cycle_scheme(cycle, unit_type)
    scheme = scheme_of(version) if version is not None else None
    elements = {n.code: n for n in scheme.elements()} if scheme else {}
    extras = {}
    if scheme is not None:
        extras = {e.code: ("bonus", e.title) for e in scheme.bonus}
        extras |= {e.code: ("penalty", e.title) for e in scheme.penalties}
        extras |= {v.code: ("veto", v.title) for v in scheme.vetoes}
    found_query = select(Finding).where(Finding.cycle_id == cycle.id)
    if only is not None:
        found_query = found_query.where(Finding.unit_id.in_([u.id for u in units.values()]))
    findings: dict[tuple[int, str], Finding] = {
        (f.unit_id, f.element): f for f in db.session.scalars(found_query)
    }
    seen = seen_by(result.composite_run)  # why a part has no score, frozen with the report
    analysis = latest_runs(cycle).get(unit_type)
    reliability = (analysis.result or {}).get("reliability", {}) if analysis else {}
    groups = {g.code: g for g in db.session.scalars(select(RaterGroup))}
    unit_ids = [units[s.unit].id for s in wanted if s.unit in units]
    comments = _comments(cycle, unit_ids, [g.id for g in groups.values() if g.visible_to_unit])
    adjustments = _adjustments(cycle, unit_ids, extras)
    out = {}
    for row in wanted:
        unit = units.get(row.unit)
        entry = result.unit_result(row.unit)
        if unit is None or entry is None:
            continue
        inspection = entry.inspection
        deductions = []
        for code, points in (inspection.elements if inspection else {}).items():
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
        shown = [
            {
                "group": g.group,
                "name": groups[g.group].name if g.group in groups else g.group,
                "name_en": groups[g.group].name_en if g.group in groups else g.group,
                "n_used": g.n_used,
                "score": g.score,
                "ci95": list(g.ci95) if g.ci95 else None,
            }
            for g in entry.groups
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
            "of": len(ranking),
            "score": row.score,
            "source": row.source,
            "rank": row.rank,
            "grade": row.grade,
            "label": row.label,
            "steps": [[g, code, dict(n)] for g, code, n in row.steps],
            "previous": row.previous,
            "change": row.change,
            "grade_labels": dict(result.grade_labels),
            "composite": entry.computed,
            "terms": [
                {
                    "component": t.component,
                    "score": t.score,
                    "weight": t.weight,
                    "contribution": t.contribution,
                }
                for t in entry.terms
            ],
            "missing": list(entry.missing),
            "gaps": [
                [g.component, g.reason, g.n, g.minimum]
                for g in seen.unit_gaps(row.unit, entry.terms).values()
            ],
            "inspection": {
                "scheme": inspection.scheme,
                "title": scheme.title if scheme else "",
                "total": inspection.total,
                "max": scheme.total if scheme else None,
                "bonus": inspection.bonus,
                "penalties": inspection.penalties,
                "vetoes": list(inspection.vetoes),
                "barred": list(inspection.barred),
            }
            if inspection
            else None,
            "deductions": sorted(deductions, key=lambda d: (-d["lost"], d["element"])),
            "items": items,
            "groups": shown,
            "panel": next((g for g in shown if g["group"] == "panel"), None),
            "agreement": panel_agreement(reliability),
            "comments": sorted(
                {text for group_id, text in comments.get(unit.id, ()) if group_id in readable}
            ),
            "adjustments": adjustments.get(unit.id, []),
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


def _comments(
    cycle: Cycle, unit_ids: list[int], group_ids: list[int]
) -> dict[int, list[tuple[int, str]]]:
    """Per unit, (rater group, comment) of the responses not excluded, of the groups a unit
    may read (each report keeps those of the groups it shows). One query for every unit."""
    out: dict[int, list[tuple[int, str]]] = {}
    if not group_ids or not unit_ids:
        return out
    rows = db.session.execute(
        select(Response.unit_id, Response.rater_group_id, Response.comment).where(
            Response.cycle_id == cycle.id,
            Response.unit_id.in_(unit_ids),
            Response.rater_group_id.in_(group_ids),
            Response.comment != "",
            Response.status != ResponseStatus.EXCLUDED,
        )
    )
    for unit_id, group_id, text in rows:
        if text.strip():
            out.setdefault(unit_id, []).append((group_id, text.strip()))
    return out


def _adjustments(
    cycle: Cycle, unit_ids: list[int], extras: dict
) -> dict[int, list[dict[str, str]]]:
    """Per unit, the approved consultation adjustments: the item and the office's decision
    (the department's own reason may name people, so it stays with the office)."""
    out: dict[int, list[dict[str, str]]] = {}
    if not unit_ids:
        return out
    rows = db.session.scalars(
        select(Adjustment)
        .where(
            Adjustment.cycle_id == cycle.id,
            Adjustment.unit_id.in_(unit_ids),
            Adjustment.status == "approved",
        )
        .order_by(Adjustment.id)
    )
    for a in rows:
        out.setdefault(a.unit_id, []).append(
            {
                "item": a.item,
                "title": extras.get(a.item, ("", a.item))[1],
                "value": a.value,
                "decision": a.decision,
            }
        )
    return out


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
