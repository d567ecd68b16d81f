"""The statistics on a cycle's stored responses: the same path as ``evalsurvey analyze``.

The cycle's responses are written as interchange CSV in memory and read back by the
analysis reader, so the staff page and the command can never disagree. Item scales
come from the questionnaire versions themselves.
"""

from __future__ import annotations

import io

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from evalsurvey.analysis.reader import read_responses
from evalsurvey.analysis.report import Options, analyze
from evalsurvey.domain.interchange import export_responses
from evalsurvey.extensions import db
from evalsurvey.models import (
    AuditLog,
    Cycle,
    ItemType,
    Questionnaire,
    Response,
    ResponseStatus,
    Unit,
)

SCORED = {ItemType.SATISFACTION5, ItemType.SCALE10, ItemType.POINTS}


def item_scales(cycle: Cycle) -> dict[str, tuple[float, float]]:
    """Scale of every scored item answered in ``cycle`` (the newest version wins)."""
    versions = db.session.scalars(
        select(Questionnaire)
        .where(
            Questionnaire.id.in_(
                select(Response.questionnaire_id).where(Response.cycle_id == cycle.id)
            )
        )
        .options(selectinload(Questionnaire.items))
        .order_by(Questionnaire.code, Questionnaire.version)
    )
    scales: dict[str, tuple[float, float]] = {}
    for q in versions:
        for item in q.items:
            if item.type == ItemType.SATISFACTION5:
                scales[item.code] = (1.0, 5.0)
            elif item.type == ItemType.SCALE10:
                scales[item.code] = (0.0, 10.0)
            elif item.type == ItemType.POINTS and item.max_points:
                scales[item.code] = (0.0, float(item.max_points))
    return scales


def analyze_cycle(
    cycle: Cycle,
    method: str = "adjusted",
    weights: str | None = None,
    min_n: int = 5,
    unit_type: str | None = None,
) -> dict:
    """The analysis report of a cycle's responses, leaving out those a person excluded.

    ``unit_type`` restricts it to units of one type, so that communities are ranked
    against communities and service windows against service windows.

    Raises :class:`~evalsurvey.analysis.reader.InputError` when there is nothing to
    analyze and :class:`~evalsurvey.analysis.report.OptionError` for bad options.
    """
    buffer = io.StringIO()
    unit_ids = (
        set(db.session.scalars(select(Unit.id).where(Unit.type == unit_type)))
        if unit_type
        else None
    )
    export_responses(
        buffer,
        cycle=cycle,
        unit_ids=unit_ids,
        statuses={ResponseStatus.VALID, ResponseStatus.SUSPECT},
    )
    buffer.seek(0)
    scales = item_scales(cycle)
    scale = ",".join(f"{code}={lo:g}-{hi:g}" for code, (lo, hi) in scales.items())
    return analyze(
        read_responses(buffer),
        Options(
            scale=scale or None, weights=weights, method=method, min_n=min_n, items=tuple(scales)
        ),
    )


def mark_suspects(report: dict) -> int:
    """Set status ``suspect`` on the report's suspect responses that no person reviewed.

    Only responses still ``valid`` and whose status was never changed (no audit row)
    are touched: a reviewer's decision is never overwritten. Returns how many changed.
    """
    ids = [r["response_id"] for r in report["responses"] if r["suspect"]]
    if not ids:
        return 0
    reviewed = select(AuditLog.entity_id).where(AuditLog.entity == "Response")
    changed = 0
    for start in range(0, len(ids), 500):
        rows = db.session.scalars(
            select(Response).where(
                Response.public_id.in_(ids[start : start + 500]),
                Response.status == ResponseStatus.VALID,
                Response.id.not_in(reviewed),
            )
        )
        for response in rows:  # through the ORM, so the audit log records each change
            response.status = ResponseStatus.SUSPECT
            changed += 1
    return changed
