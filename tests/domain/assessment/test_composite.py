"""Composites in the database, and quarterly results rolled up into the year."""

from __future__ import annotations

from datetime import timedelta

import pytest

from evalsurvey.domain.assessment import composite as composite_domain
from evalsurvey.domain.errors import DomainError
from evalsurvey.domain.results import analysis
from evalsurvey.extensions import db
from evalsurvey.models.types import utcnow
from tests.factories import make_cycle, make_link, make_response, make_unit


def _quarter(code: str, unit, level: int):
    link = make_link(unit=unit, cycle=make_cycle(code=code))
    for i in range(6):
        make_response(link, {"attitude": level, "speed": level}, when=utcnow() - timedelta(hours=i))
    db.session.commit()
    analysis.run_analysis(link.cycle, "test")
    composite_domain.set_weights(link.cycle, "service_window", {"citizen": 1})
    db.session.commit()
    composite_domain.run_composite(link.cycle, "service_window", "test")
    return link.cycle


def test_quarters_roll_up_into_the_year_with_stated_weights(app):
    window = make_unit("W1", type="service_window")
    q1 = _quarter("2026Q1", window, 5)  # 100 of 100
    q2 = _quarter("2026Q2", window, 4)  # 75 of 100
    year = make_cycle(code="2026")
    assert "cycle:2026Q1" in composite_domain.components(year)
    assert "cycle:2026" not in composite_domain.components(year)  # not itself
    composite_domain.set_weights(year, "service_window", {"cycle:2026Q1": 0.4, "cycle:2026Q2": 0.6})
    db.session.commit()
    run = composite_domain.run_composite(year, "service_window", "test")
    (unit,) = run.result["units"]
    assert unit["score"] == pytest.approx(0.4 * 100 + 0.6 * 75)
    assert [t["component"] for t in unit["terms"]] == ["cycle:2026Q1", "cycle:2026Q2"]
    assert q1.code != q2.code


def test_weights_are_checked(app):
    cycle = make_cycle()
    with pytest.raises(DomainError) as caught:
        composite_domain.set_weights(cycle, "community", {"aliens": 1})
    assert caught.value.field == "weights"
    with pytest.raises(DomainError):
        composite_domain.set_weights(cycle, "community", {"citizen": 0})
    with pytest.raises(DomainError):
        composite_domain.set_weights(cycle, "community", {"citizen": 1}, missing="ignore")
    with pytest.raises(DomainError):
        composite_domain.run_composite(cycle, "community", "test")  # nothing configured


def test_year_over_year_promotes_the_improved_by_one_star(app):
    from evalsurvey.domain.assessment import grades

    window = make_unit("W1", type="service_window")
    q1 = _quarter("2026Q1", window, 4)  # 75
    q2 = _quarter("2026Q2", window, 5)  # 100: improved
    for cycle in (q1, q2):
        cycle.period = "quarter"
    db.session.commit()
    assert grades.previous_cycle(q2, "service_window").id == q1.id
    assert grades.previous_scores(q2, "service_window") == {"W1": 75.0}
    grades.set_rules(q1, "service_window", {**grades.DEFAULT_STARS, "promote_on_improvement": True})
    rules = {"kind": "stars", "bands": [[101, 5], [90, 4], [None, 1]],
             "promote_on_improvement": True}  # fmt: skip
    grades.set_rules(q2, "service_window", rules)
    db.session.commit()
    (got,) = grades.grade_cycle(q2, "service_window").values()
    assert got.grade == "star5" and got.steps[-1][1] == "improved"  # 100 is four stars, +1
