"""The shipped community scheme's veto bars the star grades the demo's rules give (issue 17:
it named five_star/four_star, which no star band is called, so it barred nothing)."""

from __future__ import annotations

from sqlalchemy import select

from evalsurvey import demo
from evalsurvey.domain.assessment import composite, grades, schemes
from evalsurvey.domain.results.cycle import cycle_result
from evalsurvey.extensions import db
from evalsurvey.models import Cycle, Unit


def test_a_veto_in_the_demo_bars_the_grades_it_names(app):
    demo.load(n_responses=300, seed=7, history=False)
    cycle = db.session.scalar(select(Cycle))
    labels = grades.grade_labels_of(cycle, "community")
    version = schemes.cycle_scheme(cycle, "community")
    veto = schemes.scheme_of(version).item("V1")
    assert set(veto.bars) == {"star5", "star4"} <= set(labels)  # the rules' own codes
    result = cycle_result(cycle, "community")
    struck = result.units[0].unit
    unit = db.session.scalar(select(Unit).where(Unit.code == struck))
    schemes.record_finding(cycle, unit, "V1", "1", "发生重大安全责任事故", "demo")
    composite.run_composite(cycle, "community", "demo")
    db.session.commit()
    result = cycle_result(cycle, "community")
    # every unit on 95 points: the struck unit passes over both barred grades, the rest do not
    graded = grades.grade_units(
        cycle, "community", result.units, scores={u.unit: 95.0 for u in result.units}
    )
    assert graded[struck].grade == "star3", graded[struck]
    assert [step[:2] for step in graded[struck].steps[:2]] == [
        ("star5", "barred"),
        ("star4", "barred"),
    ]
    assert {g.grade for code, g in graded.items() if code != struck} == {"star5"}
    # and through the cycle's own result: the struck unit holds no four or five stars
    standing = grades.grade_cycle(cycle, "community")
    assert standing[struck].grade not in ("star5", "star4")
