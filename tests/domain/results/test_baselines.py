"""The analysis reads what only the database knows: each response's network prefix hash, and
the units' rates in the earlier cycle (the burst rule's baseline may not rise far above it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from evalsurvey.domain.results import analysis
from evalsurvey.extensions import db
from evalsurvey.models.types import utcnow
from tests.factories import make_cycle, make_link, make_response, make_unit

SHANGHAI = 8 * 3600


def test_network_codes_and_the_earlier_cycles_rates_reach_the_table(app):
    window, other = make_unit("W1"), make_unit("W2")
    now = utcnow()
    first = make_cycle(code="H1", opens_at=now - timedelta(days=200),
                       closes_at=now - timedelta(days=100))  # fmt: skip
    second = make_cycle(code="H2")
    old = make_link(unit=window, cycle=first)
    # the earlier cycle: ten days, two submissions a day at 10:00 Beijing (02:00 UTC)
    for day in range(10):
        at = datetime(2026, 3, 1 + day, 2, 5, tzinfo=UTC)
        for k in range(2):
            make_response(old, {"attitude": 4, "speed": 4}, when=at + timedelta(minutes=k))
    make_response(old, {"attitude": 1, "speed": 1}, when=at, status="suspect")  # not counted
    new = make_link(unit=window, cycle=second)
    for net in ("n1", "n1", "n2", ""):
        make_response(new, {"attitude": 5, "speed": 5}, network=net)
    make_response(make_link(unit=other, cycle=second), {"attitude": 3, "speed": 3})
    db.session.commit()
    table = analysis.response_table(second)
    assert sorted(table.network.tolist()) == [-1, -1, 0, 0, 1]
    rates = analysis.earlier_rates(second, table.units, SHANGHAI)
    mine = table.units.index("W1")
    assert rates.shape == (2, 24)
    assert rates[mine, 10] == 2.0  # two a day at ten o'clock
    assert rates[mine, 9] == 0.2  # never below the floor (stats.anomalies.FLOOR_PER_HOUR)
    assert np.isnan(rates[table.units.index("W2")]).all()  # not seen in the earlier cycle
    assert analysis.earlier_rates(first, ["W1"], SHANGHAI) is None  # nothing before it
    report = analysis.analyze_cycle(second)
    assert {r["unit"] for r in report["units"]} == {"W1", "W2"}
