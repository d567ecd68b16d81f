"""The two-level review (两级审核): a lower-level body (a street's team) confirms or enters
its units' scores and proposes grades; the upper level (the district) re-reviews every
proposal at the top grades and a reproducible random sample of the rest, entering its own
scores. Both are kept; the reviewed score stands (:mod:`.standing`). The inflation report
compares the two per body (the source's 11 five-star proposals of which 4 stood).
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass

from sqlalchemy import select

from evalsurvey.domain.composite import latest_composite
from evalsurvey.domain.errors import DomainError
from evalsurvey.domain.grades import grade_cycle, grade_run, rules_for
from evalsurvey.domain.publication import publication_of
from evalsurvey.domain.standing import proposals_of
from evalsurvey.extensions import db
from evalsurvey.models import Cycle, CycleStatus, GradeProposal, ReviewDraw, Unit
from evalsurvey.models.types import utcnow
from evalsurvey.scoring.grading import parse_rules
from evalsurvey.scoring.review import Inflation, inflation_report, review_sample

OPEN_FOR_REVIEW = (CycleStatus.OPEN, CycleStatus.CLOSED)
DEFAULT_RATE = 0.2


def grade_codes(cycle: Cycle, unit_type: str) -> list[tuple[str, str]]:
    """The grades (code, label) of the unit type's rules, best first; [] without rules."""
    rules = rules_for(cycle, unit_type)
    return [(b.code, b.label) for b in parse_rules(rules).bands] if rules else []


def _check_open(cycle: Cycle) -> None:
    if cycle.status not in OPEN_FOR_REVIEW:
        raise DomainError("只能在进行中或已关闭、尚未公示的周期中申报和复核。")


def _check_score(score: float) -> float:
    try:
        score = float(score)
    except (TypeError, ValueError):
        raise DomainError("得分必须是 0 到 100 之间的数字。", "score") from None
    if not math.isfinite(score) or not 0 <= score <= 100:
        raise DomainError("得分必须是 0 到 100 之间的数字。", "score")
    return round(score, 2)


def propose(
    cycle: Cycle, unit: Unit, score: float, grade: str, note: str, actor: str
) -> GradeProposal:
    """The lower-level body's score and proposed grade for ``unit`` (its parent proposes).
    A proposal may change until the upper level has reviewed it. Flushed."""
    _check_open(cycle)
    if publication_of(cycle, unit.type) is not None:
        raise DomainError("该类单位的结果已经公示。")
    codes = [code for code, _label in grade_codes(cycle, unit.type)]
    if not codes:
        raise DomainError("尚未设置该类单位的等级规则。")
    if grade not in codes:
        raise DomainError("请选择规则中的等级。", "grade")
    score = _check_score(score)
    note = (note or "").strip()
    if len(note) > 2000:
        raise DomainError("内容太长。", "note")
    found = db.session.scalar(
        select(GradeProposal).where(
            GradeProposal.cycle_id == cycle.id, GradeProposal.unit_id == unit.id
        )
    )
    if found is not None and found.reviewed_score is not None:
        raise DomainError("上级已复核，申报不能再修改。")
    if found is None:
        found = GradeProposal(cycle_id=cycle.id, unit_id=unit.id, body_id=unit.parent_id)
        db.session.add(found)
    found.score, found.grade, found.note = score, grade, note
    found.proposed_by, found.proposed_at = actor, utcnow()
    db.session.flush()
    return found


def top_grades(cycle: Cycle, unit_type: str, n: int = 2) -> list[str]:
    """The grades whose every proposal is re-reviewed: the top ``n`` of the rules."""
    return [code for code, _label in grade_codes(cycle, unit_type)[:n]]


def draw_of(cycle: Cycle, unit_type: str) -> ReviewDraw | None:
    return db.session.scalar(
        select(ReviewDraw).where(ReviewDraw.cycle_id == cycle.id, ReviewDraw.unit_type == unit_type)
    )


def draw_sample(
    cycle: Cycle, unit_type: str, actor: str, rate: float = DEFAULT_RATE, seed: int | None = None
) -> ReviewDraw:
    """Draw the re-review sample once: every proposal at the top two grades and ``rate`` of
    the others, from a recorded seed (a random one unless given). Flushed."""
    _check_open(cycle)
    if draw_of(cycle, unit_type) is not None:
        raise DomainError("已经抽取过复核样本。")
    try:
        rate = float(rate)
    except (TypeError, ValueError):
        raise DomainError("抽查比例应在 0 到 1 之间。", "rate") from None
    if not 0 <= rate <= 1:
        raise DomainError("抽查比例应在 0 到 1 之间。", "rate")
    proposals = {code: p.grade for code, p in proposals_of(cycle, unit_type).items()}
    if not proposals:
        raise DomainError("还没有下级申报。")
    always = top_grades(cycle, unit_type)
    seed = secrets.randbelow(2**31) if seed is None else int(seed)
    found = ReviewDraw(
        cycle_id=cycle.id,
        unit_type=unit_type,
        always=always,
        rate=rate,
        seed=seed,
        units=review_sample(proposals, always, rate, seed),
        drawn_by=actor,
    )
    db.session.add(found)
    db.session.flush()
    return found


def redraw(draw: ReviewDraw, proposals: dict[str, str]) -> list[str]:
    """The same sample again from the recorded seed (anyone can check it)."""
    return review_sample(proposals, draw.always, draw.rate, draw.seed)


def to_review(cycle: Cycle, unit_type: str) -> set[str]:
    """The units the upper level must re-review: every current proposal at the top grades
    (also one made after the draw) and the units drawn."""
    draw = draw_of(cycle, unit_type)
    always = set(draw.always if draw else top_grades(cycle, unit_type))
    top = {code for code, p in proposals_of(cycle, unit_type).items() if p.grade in always}
    return top | set(draw.units if draw else [])


def review(proposal: GradeProposal, score: float, note: str, actor: str) -> None:
    """The upper level's own score for a proposed unit; it stands from now on. Flushed."""
    _check_open(proposal.cycle)
    if actor == proposal.proposed_by:
        raise DomainError("不能复核自己的申报。")
    note = (note or "").strip()
    if len(note) > 2000:
        raise DomainError("内容太长。", "note")
    proposal.reviewed_score = _check_score(score)
    proposal.review_note, proposal.reviewed_by, proposal.reviewed_at = note, actor, utcnow()
    db.session.flush()


def suggestions(cycle: Cycle, unit_type: str) -> dict[str, tuple[float, str]]:
    """What a body confirms by default: each unit's composite score and the grade the
    rules give it on the latest stored composite."""
    run = latest_composite(cycle, unit_type)
    graded = grade_run(cycle, unit_type, run)
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
