"""The score that stands for each unit: the upper level's reviewed score where there is one,
else the lower-level body's proposal, else the stored composite (see :mod:`.review`)."""

from __future__ import annotations

from sqlalchemy import select

from evalsurvey.extensions import db
from evalsurvey.models import AnalysisRun, Cycle, GradeProposal, Unit

COMPOSITE, PROPOSED, REVIEWED = "composite", "proposed", "reviewed"


def proposals_of(cycle: Cycle, unit_type: str) -> dict[str, GradeProposal]:
    """The cycle's proposals for units of ``unit_type``, by unit code."""
    rows = db.session.execute(
        select(Unit.code, GradeProposal)
        .join(GradeProposal, GradeProposal.unit_id == Unit.id)
        .where(GradeProposal.cycle_id == cycle.id, Unit.type == unit_type)
    )
    return {code: proposal for code, proposal in rows}


def standing_scores(
    cycle: Cycle, unit_type: str, run: AnalysisRun | None
) -> dict[str, tuple[float, str]]:
    """Each unit's standing score and where it comes from (``composite``, ``proposed`` or
    ``reviewed``). Units without a composite score and without a proposal have none."""
    out: dict[str, tuple[float, str]] = {}
    for entry in run.result["units"] if run is not None else []:
        if entry["score"] is not None:
            out[entry["unit"]] = (entry["score"], COMPOSITE)
    for code, p in proposals_of(cycle, unit_type).items():
        if p.reviewed_score is not None:
            out[code] = (p.reviewed_score, REVIEWED)
        else:
            out[code] = (p.score, PROPOSED)
    return out
