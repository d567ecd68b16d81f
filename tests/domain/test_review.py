"""The two-level review in the database: proposals, a sample redrawn from its seed, reviewed
scores that stand, and the inflation report on a constructed case (worked by hand)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from evalsurvey.domain import cycles as cycle_domain
from evalsurvey.domain import demo
from evalsurvey.domain import review as review_domain
from evalsurvey.domain.errors import DomainError
from evalsurvey.domain.grades import grade_cycle
from evalsurvey.domain.standing import standing_scores
from evalsurvey.extensions import db
from evalsurvey.models import Cycle, CycleStatus, Unit
from evalsurvey.scoring.review import review_sample


def _demo():
    demo.load(n_responses=300, seed=7)
    cycle = db.session.scalar(select(Cycle))
    units = {u.code: u for u in db.session.scalars(select(Unit))}
    return cycle, units


def test_reviewed_scores_stand_and_the_inflation_report_is_as_worked(app):
    cycle, units = _demo()
    # street S01 proposes its four communities; the first two too high
    proposed = {"C0101": (92, "star5"), "C0102": (91, "star5"), "C0103": (86, "star4"),
                "C0104": (75, "star3")}  # fmt: skip
    for code, (score, grade) in proposed.items():
        review_domain.propose(cycle, units[code], score, grade, "街道初审", "s01")
    # S02 proposes one community at three stars
    review_domain.propose(cycle, units["C0201"], 72, "star3", "", "s02")
    db.session.commit()
    assert standing_scores(cycle, "community", None)["C0101"] == (92, "proposed")

    draw = review_domain.draw_sample(cycle, "community", "district", rate=0.5, seed=424242)
    db.session.commit()
    grades = {"C0101": "star5", "C0102": "star5", "C0103": "star4", "C0104": "star3",
              "C0201": "star3"}  # fmt: skip
    # every top-two proposal, and ceil(0.5 × 2) = 1 of the other two, drawn by the seed
    assert draw.units == review_sample(grades, ["star5", "star4"], 0.5, 424242)
    assert {"C0101", "C0102", "C0103"} <= set(draw.units) and len(draw.units) == 4
    assert review_domain.redraw(draw, grades) == draw.units  # anyone can redraw it
    with pytest.raises(DomainError):
        review_domain.draw_sample(cycle, "community", "district", rate=0.5)  # once only

    proposals = review_domain.proposals_of(cycle, "community")
    with pytest.raises(DomainError, match="不能复核自己的申报"):
        review_domain.review(proposals["C0101"], 85, "", "s01")
    for code, score in {"C0101": 85, "C0102": 91, "C0103": 80}.items():
        review_domain.review(proposals[code], score, "区复核", "district")
    db.session.commit()
    with pytest.raises(DomainError, match="上级已复核"):
        review_domain.propose(cycle, units["C0101"], 95, "star5", "", "s01")

    standing = standing_scores(cycle, "community", None)
    assert standing["C0101"] == (85, "reviewed") and standing["C0104"] == (75, "proposed")
    graded = grade_cycle(cycle, "community")
    assert graded["C0101"].grade == "star4"  # 85: four stars, not the five proposed
    assert graded["C0103"].grade == "star4"  # exactly 80 takes the higher band

    by_body = {b.body: b for b in review_domain.inflation_by_body(cycle, "community")}
    s01 = by_body["S01"]
    assert s01.proposals == 4
    assert s01.proposed_counts == {"star5": 2, "star4": 1, "star3": 1}
    report = s01.report
    # reviewed: C0101 92→85 (+7), C0102 91→91 (0), C0103 86→80 (+6)
    assert report.units == 3
    assert report.proposed == {"star5": 2, "star4": 1}
    assert report.reviewed == {"star4": 2, "star5": 1}
    assert report.mean_difference == pytest.approx(13 / 3)
    assert report.largest_upward == 7 and report.largest_unit == "C0101"
    assert by_body["S02"].report is None  # nothing of S02 reviewed


def test_proposals_are_checked(app):
    cycle, units = _demo()
    with pytest.raises(DomainError, match="请选择规则中的等级"):
        review_domain.propose(cycle, units["C0101"], 80, "gold", "", "s01")
    for bad in (-1, 101, float("nan"), "abc"):
        with pytest.raises(DomainError, match="0 到 100"):
            review_domain.propose(cycle, units["C0101"], bad, "star4", "", "s01")
    with pytest.raises(DomainError, match="还没有下级申报"):
        review_domain.draw_sample(cycle, "community", "district")
    with pytest.raises(DomainError, match="抽查比例"):
        review_domain.propose(cycle, units["C0101"], 80, "star4", "", "s01")
        review_domain.draw_sample(cycle, "community", "district", rate=2)
    cycle_domain.transition(cycle, CycleStatus.CLOSED)
    cycle_domain.transition(cycle, CycleStatus.PUBLISHED)
    with pytest.raises(DomainError, match="尚未公示"):
        review_domain.propose(cycle, units["C0102"], 80, "star4", "", "s01")
