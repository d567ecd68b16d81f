"""The two-level review (两级审核): a lower-level body (a street's team) confirms or enters
its units' scores; the grade follows from the score under the cycle's rules. The upper level
(the district) re-reviews every proposal the scores single out (:func:`must_review`: the top
two grades' range, a difference from the computed composite beyond ``REVIEW_MARGIN``, no
computed score) and a reproducible random sample of the rest, entering its own scores. Both
are kept; the reviewed score stands (:mod:`.standing`), and a proposal still awaiting its
re-review neither stands nor lets the results be published. The inflation report compares the
two per body (the source's 11 five-star proposals of which 4 stood).
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from evalsurvey.domain.assessment.composite import latest_composite
from evalsurvey.domain.assessment.grades import grade_cycle, grade_units, rules_for
from evalsurvey.domain.assessment.publication import publication_of
from evalsurvey.domain.assessment.standing import proposals_of
from evalsurvey.domain.errors import DomainError
from evalsurvey.domain.results.cycle import computed_scores, computed_units, forget, review_is_stale
from evalsurvey.extensions import db
from evalsurvey.models import AnalysisRun, Cycle, CycleStatus, GradeProposal, ReviewDraw, Unit
from evalsurvey.models.types import utcnow
from evalsurvey.scoring.grading import GradedUnit, parse_rules
from evalsurvey.scoring.review import (
    DRAWN,
    TOP_GRADE,
    TOP_SCORE,
    Inflation,
    Proposed,
    TopRange,
    inflation_report,
    mandatory,
    review_sample,
    top_range,
)

OPEN_FOR_REVIEW = (CycleStatus.OPEN, CycleStatus.CLOSED)
DEFAULT_RATE = 0.2


def grade_codes(cycle: Cycle, unit_type: str) -> list[tuple[str, str]]:
    """The grades (code, label) of the unit type's rules, best first; [] without rules."""
    rules = rules_for(cycle, unit_type)
    return [(b.code, b.label) for b in parse_rules(rules).bands] if rules else []


def review_margin() -> float:
    """Points a proposal may differ from the computed composite without a forced re-review
    (``REVIEW_MARGIN``, checked at start-up)."""
    return float(current_app.config["REVIEW_MARGIN"])


def _check_open(cycle: Cycle, unit_type: str | None = None) -> None:
    if cycle.status not in OPEN_FOR_REVIEW:
        raise DomainError("只能在进行中或已关闭、尚未公示的周期中申报和复核。")
    # a unit type is published on its own, the cycle stays closed: what is public stands
    if unit_type is not None and publication_of(cycle, unit_type) is not None:
        raise DomainError("该类单位的结果已经公示。")


def _check_score(score: float) -> float:
    try:
        score = float(score)
    except (TypeError, ValueError):
        raise DomainError("得分必须是 0 到 100 之间的数字。", "score") from None
    if not math.isfinite(score) or not 0 <= score <= 100:
        raise DomainError("得分必须是 0 到 100 之间的数字。", "score")
    return round(score, 2)


def _as_proposed(
    cycle: Cycle,
    unit_type: str,
    run: AnalysisRun | None,
    proposals: dict[str, GradeProposal],
    extra: dict[str, float] | None = None,
) -> dict[str, GradedUnit]:
    """The grades the rules give with every proposal's score in place of the computed one
    (and ``extra`` unit → score on top): the grade each proposal carries."""
    scores = {u: s for u, s in computed_scores(run).items() if s is not None}
    scores |= {u: p.score for u, p in proposals.items()}
    scores |= extra or {}
    return grade_units(cycle, unit_type, computed_units(run), scores)


def propose(
    cycle: Cycle, unit: Unit, score: float, grade: str | None, note: str, actor: str
) -> GradeProposal:
    """The lower-level body's score for ``unit`` (its parent proposes). The grade is not
    chosen: it is the grade the cycle's rules give the score (vetoes, year-over-year
    promotion and quotas included), stored with the proposal; a ``grade`` given anyway must
    be that grade. A proposal may change until the upper level has reviewed it. Flushed."""
    _check_open(cycle, unit.type)
    codes = [code for code, _label in grade_codes(cycle, unit.type)]
    if not codes:
        raise DomainError("尚未设置该类单位的等级规则。")
    if grade and grade not in codes:
        raise DomainError("请选择规则中的等级。", "grade")
    score = _check_score(score)
    note = (note or "").strip()
    if len(note) > 2000:
        raise DomainError("内容太长。", "note")
    run = latest_composite(cycle, unit.type)
    computed = computed_scores(run)
    if unit.code not in computed:
        raise DomainError("该单位还没有综合计算结果，请先计算综合结果再申报。", "score")
    found = db.session.scalar(
        select(GradeProposal).where(
            GradeProposal.cycle_id == cycle.id, GradeProposal.unit_id == unit.id
        )
    )
    if (
        found is not None
        and found.reviewed_score is not None
        and not review_is_stale(found, computed)
    ):
        raise DomainError("上级已复核，申报不能再修改。")
    others = proposals_of(cycle, unit.type)
    given = _as_proposed(cycle, unit.type, run, others, {unit.code: score}).get(unit.code)
    if given is None:  # rules the units cannot be graded by (e.g. a missing tie-breaker)
        raise DomainError("按本周期的等级规则无法评定该单位的等级。", "grade")
    if grade and grade != given.grade:
        shown = f"{score:g}"
        raise DomainError(
            "按本周期的等级规则，{score} 分对应的等级是{label}，与所填等级不符。",
            "grade",
            score=shown,
            label=given.label,
        )
    if found is None:
        found = GradeProposal(cycle_id=cycle.id, unit_id=unit.id, body_id=unit.parent_id)
        db.session.add(found)
    found.score, found.grade, found.note = score, given.grade, note
    found.proposed_by, found.proposed_at = actor, utcnow()
    # made against this composite; a stale review is void once the body proposes again
    found.computed_score, found.computed_run_id = computed[unit.code], run.id
    if found.reviewed_score is not None:
        found.reviewed_score, found.reviewed_run_id, found.reviewed_computed = None, None, None
        found.review_note, found.reviewed_by, found.reviewed_at = "", "", None
    db.session.flush()
    forget()
    return found


def top_of(cycle: Cycle, unit_type: str) -> TopRange | None:
    """The top two grades of the unit type's rules and the lowest score in their range."""
    rules = rules_for(cycle, unit_type)
    return top_range(parse_rules(rules)) if rules else None


def top_grades(cycle: Cycle, unit_type: str) -> list[str]:
    """The grades whose every proposal is re-reviewed: the top two of the rules."""
    top = top_of(cycle, unit_type)
    return list(top.grades) if top else []


def draw_of(cycle: Cycle, unit_type: str) -> ReviewDraw | None:
    return db.session.scalar(
        select(ReviewDraw).where(ReviewDraw.cycle_id == cycle.id, ReviewDraw.unit_type == unit_type)
    )


def _by_scores(
    cycle: Cycle, unit_type: str, proposals: dict[str, GradeProposal]
) -> dict[str, tuple[str, ...]]:
    """The proposals the scores single out (see :func:`evalsurvey.scoring.review.mandatory`),
    with their reasons. Without rules every proposal is singled out."""
    run = latest_composite(cycle, unit_type)
    computed = computed_scores(run)
    now = _as_proposed(cycle, unit_type, run, proposals)
    seen = {
        u: Proposed(
            p.score,
            frozenset({p.grade} | ({now[u].grade} if u in now else set())),
            computed.get(u),
        )
        for u, p in proposals.items()
    }
    top = top_of(cycle, unit_type) or TopRange((), -math.inf)
    return mandatory(seen, top, review_margin())


def must_review(
    cycle: Cycle, unit_type: str, proposals: dict[str, GradeProposal] | None = None
) -> dict[str, tuple[str, ...]]:
    """Every proposal the upper level must re-review, reviewed or not, with the reasons
    (codes of :mod:`evalsurvey.scoring.review`): those the scores single out, also ones made
    or changed after the draw, and the units drawn."""
    if proposals is None:
        proposals = proposals_of(cycle, unit_type)
    if not proposals:
        return {}
    out = _by_scores(cycle, unit_type, proposals)
    draw = draw_of(cycle, unit_type)
    for code in draw.units if draw else []:
        if code in proposals and code not in out:
            out[code] = (DRAWN,)
    return out


def shown_reasons(reasons: tuple[str, ...]) -> tuple[str, ...]:
    """The reasons as a reader sees them: once the score reaches the top two grades' range,
    "its grade is a top grade" says the same thing again and is left out (a top grade below
    that range, e.g. by year-over-year promotion, still shows)."""
    return tuple(r for r in reasons if not (r == TOP_GRADE and TOP_SCORE in reasons))


def pending_review(
    cycle: Cycle, unit_type: str, proposals: dict[str, GradeProposal] | None = None
) -> dict[str, tuple[str, ...]]:
    """The proposals that must be re-reviewed and have not been: none of them stands or is
    published (:mod:`.standing`, :func:`.publication.publication_blockers`)."""
    if proposals is None:
        proposals = proposals_of(cycle, unit_type)
    waiting = {u: p for u, p in proposals.items() if p.reviewed_score is None}
    if not waiting:
        return {}
    return {u: r for u, r in must_review(cycle, unit_type, proposals).items() if u in waiting}


def to_review(cycle: Cycle, unit_type: str) -> set[str]:
    """The units the upper level must re-review (see :func:`must_review`)."""
    return set(must_review(cycle, unit_type))


def draw_sample(
    cycle: Cycle, unit_type: str, actor: str, rate: float = DEFAULT_RATE, seed: int | None = None
) -> ReviewDraw:
    """Draw the re-review sample once: every proposal the scores single out and ``rate`` of
    the others, from a recorded seed (a random one unless given). Flushed."""
    _check_open(cycle, unit_type)
    if draw_of(cycle, unit_type) is not None:
        raise DomainError("已经抽取过复核样本。")
    try:
        rate = float(rate)
    except (TypeError, ValueError):
        raise DomainError("抽查比例应在 0 到 1 之间。", "rate") from None
    if not 0 <= rate <= 1:
        raise DomainError("抽查比例应在 0 到 1 之间。", "rate")
    proposals = proposals_of(cycle, unit_type)
    if not proposals:
        raise DomainError("还没有下级申报。")
    seed = secrets.randbelow(2**31) if seed is None else int(seed)
    found = ReviewDraw(
        cycle_id=cycle.id,
        unit_type=unit_type,
        always=top_grades(cycle, unit_type),
        rate=rate,
        seed=seed,
        units=review_sample(proposals, _by_scores(cycle, unit_type, proposals), rate, seed),
        drawn_by=actor,
    )
    db.session.add(found)
    db.session.flush()
    return found


def redraw(draw: ReviewDraw, unit_type: str) -> list[str]:
    """The same sample again from the recorded seed and the proposals as they are now
    (anyone can check it; it differs once proposals changed after the draw)."""
    proposals = proposals_of(draw.cycle, unit_type)
    return review_sample(
        proposals, _by_scores(draw.cycle, unit_type, proposals), draw.rate, draw.seed
    )


def review(proposal: GradeProposal, score: float, note: str, actor: str) -> None:
    """The upper level's own score for a proposed unit; it stands from now on. Flushed."""
    _check_open(proposal.cycle, proposal.unit.type)
    if actor == proposal.proposed_by:
        raise DomainError("不能复核自己的申报。")
    note = (note or "").strip()
    if len(note) > 2000:
        raise DomainError("内容太长。", "note")
    score = _check_score(score)
    if abs(score - proposal.score) >= 0.005 and not note:
        # the lower level's score is overruled: the record says why
        raise DomainError("复核得分与申报得分不同，请填写复核意见。", "note")
    proposal.reviewed_score = score
    proposal.review_note, proposal.reviewed_by, proposal.reviewed_at = note, actor, utcnow()
    # made against the unit's composite as it is now (a later composite makes it stale)
    run = latest_composite(proposal.cycle, proposal.unit.type)
    proposal.reviewed_run_id = run.id if run is not None else None
    proposal.reviewed_computed = computed_scores(run).get(proposal.unit.code)
    db.session.flush()
    forget()


def suggestions(cycle: Cycle, unit_type: str) -> dict[str, tuple[float, str]]:
    """What a body confirms by default: each unit's composite score and the grade the
    rules give it on the latest stored composite."""
    run = latest_composite(cycle, unit_type)
    graded = grade_units(cycle, unit_type, computed_units(run))
    return {u: (g.score, g.grade) for u, g in graded.items()}


@dataclass(frozen=True)
class BodyInflation:
    body: str  # the body's unit code ("" for units without a parent)
    proposals: int  # proposals made
    proposed_counts: dict[str, int]  # grade → proposals at that grade (all of them)
    report: Inflation | None  # over the reviewed units; None before any review


def inflation_by_body(cycle: Cycle, unit_type: str) -> list[BodyInflation]:
    """Per lower-level body: proposed against reviewed scores and grades. The reviewed grade
    is the grade the rules give on the standing scores (reviewed where reviewed)."""
    proposals = proposals_of(cycle, unit_type)
    graded = grade_cycle(cycle, unit_type)
    bodies: dict[str, dict[str, GradeProposal]] = {}
    for code, p in proposals.items():
        bodies.setdefault(p.body.code if p.body else "", {})[code] = p
    out = []
    for body in sorted(bodies):
        mine = bodies[body]
        counts: dict[str, int] = {}
        for p in mine.values():
            counts[p.grade] = counts.get(p.grade, 0) + 1
        proposed = {u: (p.score, p.grade) for u, p in mine.items() if p.reviewed_score is not None}
        reviewed = {
            u: (p.reviewed_score, graded[u].grade if u in graded else "")
            for u, p in mine.items()
            if p.reviewed_score is not None
        }
        report = inflation_report(proposed, reviewed) if proposed else None
        out.append(BodyInflation(body, len(mine), counts, report))
    return out
