"""Satisfaction intervals stay on the 0–100 scale (QA: "93.3–100.5" on a unit's page)."""

from __future__ import annotations

import math

from evalsurvey.analysis.report import _ci


def test_an_interval_past_the_scale_is_clipped_to_it():
    assert _ci(96.9, 3.6) == [93.3, 100.0]
    assert _ci(2.0, 5.0) == [0.0, 7.0]
    assert _ci(80.0, 4.25) == [75.8, 84.2]  # inside: as computed
    assert _ci(math.nan, 1.0) is None and _ci(50.0, math.inf) is None
