"""Cycles saved without an opening time (issue 16, defect 2): the cycle form allows it, and
such a cycle is analysed, shown on its dashboards and compared year over year like any
other. The analysis once raised on ``Cycle.opens_at < None``; the unit's trend was ordered
by opening time, so an undated cycle came first on SQLite and last on PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from evalsurvey.domain.assessment import composite as composite_domain
from evalsurvey.domain.assessment import grades
from evalsurvey.domain.cycles import earlier_than, in_time_order
from evalsurvey.domain.results import analysis
from evalsurvey.extensions import db
from evalsurvey.models.types import utcnow
from tests.factories import login, make_cycle, make_link, make_response, make_staff, make_unit

SHANGHAI = 8 * 3600


def _undated(code: str, period: str = "year"):
    cycle = make_cycle(code=code, opens_at=None, closes_at=None)
    assert cycle.opens_at is None
    cycle.period = period
    db.session.commit()
    return cycle


def _scored(cycle, unit, level: int, at: datetime | None = None) -> None:
    """Six citizen responses of ``level`` for ``unit``, analysed into a composite."""
    link = make_link(unit=unit, cycle=cycle)
    for i in range(6):
        when = (at or utcnow()) - timedelta(hours=i)
        make_response(link, {"attitude": level, "speed": level}, when=when)
    db.session.commit()
    analysis.run_analysis(cycle, "test")
    composite_domain.set_weights(cycle, "service_window", {"citizen": 1})
    db.session.commit()
    composite_domain.run_composite(cycle, "service_window", "test")


def test_an_undated_cycle_comes_after_the_cycles_created_before_it(app):
    now = utcnow()
    july = make_cycle(code="JUL", opens_at=now - timedelta(days=30))
    first = _undated("U1")
    second = _undated("U2")
    january = make_cycle(code="JAN", opens_at=now - timedelta(days=200))  # entered later
    assert in_time_order() == [january, july, first, second]
    assert earlier_than(second) == [first, july, january]
    assert earlier_than(january) == []
    lone = _undated("U3")
    assert in_time_order()[-1] == lone


def test_an_undated_cycle_is_analysed_against_the_one_before(app):
    window, other = make_unit("W1", type="service_window"), make_unit("W2")
    first = _undated("H1")
    old = make_link(unit=window, cycle=first)
    # the earlier cycle: ten days, two submissions a day at 10:00 Beijing (02:00 UTC)
    for day in range(10):
        at = datetime(2026, 3, 1 + day, 2, 5, tzinfo=UTC)
        for k in range(2):
            make_response(old, {"attitude": 4, "speed": 4}, when=at + timedelta(minutes=k))
    second = _undated("H2")
    new = make_link(unit=window, cycle=second)
    for _ in range(4):
        make_response(new, {"attitude": 5, "speed": 5})
    make_response(make_link(unit=other, cycle=second), {"attitude": 3, "speed": 3})
    db.session.commit()
    table = analysis.response_table(second)
    rates = analysis.earlier_rates(second, table.units, SHANGHAI)
    assert rates[table.units.index("W1"), 10] == 2.0  # the first cycle's baseline
    assert analysis.earlier_rates(first, ["W1"], SHANGHAI) is None  # nothing before it
    runs = analysis.run_analysis(second, "test")
    assert runs and {u["unit"] for u in runs[0].result["units"]} == {"W1", "W2"}
    # a dated cycle after the undated ones reads the latest of them
    third = make_cycle(code="H3")
    make_response(make_link(unit=window, cycle=third), {"attitude": 5, "speed": 5})
    db.session.commit()
    assert analysis.earlier_rates(third, ["W1"], SHANGHAI) is not None
    assert analysis.run_analysis(third, "test")


def test_year_over_year_and_the_dashboards_of_undated_cycles(app, client):
    window = make_unit("W1", type="service_window")
    now = utcnow()
    q2 = make_cycle(code="2026Q2", opens_at=now - timedelta(days=10))
    q1 = make_cycle(code="2026Q1", opens_at=now - timedelta(days=100))  # entered later
    for cycle in (q1, q2):
        cycle.period = "quarter"
    db.session.commit()
    _scored(q1, window, 4)  # 75
    _scored(q2, window, 5)  # 100
    q3 = _undated("2026Q3", "quarter")
    _scored(q3, window, 3)  # 50
    q4 = _undated("2026Q4", "quarter")  # after an undated cycle
    _scored(q4, window, 4)  # 75
    assert grades.previous_cycle(q1, "service_window") is None
    assert grades.previous_cycle(q2, "service_window") == q1
    assert grades.previous_cycle(q3, "service_window") == q2
    assert grades.previous_cycle(q4, "service_window") == q3
    assert grades.previous_scores(q3, "service_window") == {"W1": 100.0}
    assert grades.previous_scores(q4, "service_window") == {"W1": 50.0}

    make_staff("boss")
    login(client, "boss")
    for cycle, change in ((q3, "-50.00"), (q4, "+25.00")):
        page = client.get(f"/admin/cycles/{cycle.id}/dashboard?type=service_window")
        assert page.status_code == 200
        assert change in page.get_data(as_text=True)  # against the cycle before it
        assert client.get(f"/admin/cycles/{cycle.id}/analysis").status_code == 200
    unit_page = client.get(f"/admin/cycles/{q4.id}/units/{window.id}/dashboard")
    assert unit_page.status_code == 200
    names = [c.name for c in (q1, q2, q3, q4)]
    trend = [n for n in re.findall(r"<tr><td>([^<]+)</td>", unit_page.get_data(as_text=True))
             if n in names]  # fmt: skip
    assert trend == names  # oldest first, the same on both databases
