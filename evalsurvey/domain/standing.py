"""The score that stands for each unit: the upper level's reviewed score where there is one,
else the lower-level body's proposal unless it must be re-reviewed and has not been, else the
stored composite (see :mod:`.review`)."""

from __future__ import annotations

from sqlalchemy import select

from evalsurvey.extensions import db
from evalsurvey.models import AnalysisRun, Cycle, GradeProposal, Unit

COMPOSITE, PROPOSED, REVIEWED = "composite", "proposed", "reviewed"
PENDING = "pending"  # the composite, while the unit's proposal awaits its mandatory re-review


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
    """Each unit's standing score and where it comes from (``composite``, ``proposed``,
    ``reviewed``, or ``pending``: the composite while a proposal awaits its mandatory
    re-review, which never stands unreviewed). Units without a composite score and without a
    standing proposal have none."""
    from evalsurvey.domain.review import pending_review  # review builds on this module

    out: dict[str, tuple[float, str]] = {}
    for entry in run.result["units"] if run is not None else []:
        if entry["score"] is not None:
            out[entry["unit"]] = (entry["score"], COMPOSITE)
    proposals = proposals_of(cycle, unit_type)
    waiting = pending_review(cycle, unit_type, proposals)
    for code, p in proposals.items():
        if p.reviewed_score is not None:
            out[code] = (p.reviewed_score, REVIEWED)
        elif code not in waiting:
            out[code] = (p.score, PROPOSED)
        elif code in out:
            out[code] = (out[code][0], PENDING)
    return out
