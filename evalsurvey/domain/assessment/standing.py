"""The score that stands for each unit: the upper level's reviewed score where there is one,
else the lower-level body's proposal unless it must be re-reviewed and has not been, else the
stored composite (see :mod:`.review`). A proposal or review made against an older composite
than the unit's current one does not stand until it is confirmed again."""

from __future__ import annotations

from sqlalchemy import select

from evalsurvey.extensions import db
from evalsurvey.models import AnalysisRun, Cycle, GradeProposal, Unit
from evalsurvey.scoring.result import COMPUTED as COMPOSITE
from evalsurvey.scoring.result import PENDING, PROPOSED, REVIEWED, STALE


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
    re-review, which never stands unreviewed; ``stale``: the composite, while the proposal
    or its review was made against an older composite). Units without a composite score and
    without a standing proposal have none."""
    from evalsurvey.domain.assessment.grade_review import (
        pending_review,  # review builds on this module
    )
    from evalsurvey.domain.results.cycle import computed_scores, proposal_is_stale, review_is_stale

    computed = computed_scores(run)
    out: dict[str, tuple[float, str]] = {
        u: (s, COMPOSITE) for u, s in computed.items() if s is not None
    }
    proposals = proposals_of(cycle, unit_type)
    waiting = pending_review(cycle, unit_type, proposals)
    for code, p in proposals.items():
        if p.reviewed_score is not None:
            if not review_is_stale(p, computed):
                out[code] = (p.reviewed_score, REVIEWED)
            elif code in out:
                out[code] = (out[code][0], STALE)
        elif proposal_is_stale(p, computed):
            if code in out:
                out[code] = (out[code][0], STALE)
        elif code not in waiting:
            out[code] = (p.score, PROPOSED)
        elif code in out:
            out[code] = (out[code][0], PENDING)
    return out
