"""The two-level review: the mandatory set decided by the scores (the probe's 99-point
three-star proposal, the margin's boundaries worked by hand), a reproducible sample, and the
inflation report on a constructed case."""

from __future__ import annotations

import math

import pytest

from evalsurvey.scoring.grading import parse_rules
from evalsurvey.scoring.review import (
    MARGIN,
    NO_COMPOSITE,
    TOP_GRADE,
    TOP_SCORE,
    Proposed,
    TopRange,
    beyond_margin,
    inflation_report,
    mandatory,
    review_sample,
    top_range,
)

STARS = parse_rules({"kind": "stars", "bands": [[90, 5], [80, 4], [70, 3], [60, 2], [None, 1]]})
QUOTA = {
    "kind": "quota",
    "grades": [
        {"code": "excellent", "min_score": 90, "max_share": 0.2},
        {"code": "advanced", "min_score": 85, "max_share": 0.3},
        {"code": "meets", "min_score": 60},
        {"code": "below"},
    ],
}


def test_the_top_two_grades_range_under_the_rules():
    assert top_range(STARS) == TopRange(("star5", "star4"), 80.0)
    assert top_range(parse_rules(QUOTA)) == TopRange(("excellent", "advanced"), 85.0)
    # a second grade without a minimum: any score may reach it, so every proposal does
    grades = [{"code": "a", "min_score": 90, "max_share": 0.1}, {"code": "b", "max_share": 0.5}]
    open_second = {"kind": "quota", "grades": [*grades, {"code": "c"}]}
    assert top_range(parse_rules(open_second)).floor == -math.inf
    two = parse_rules({"kind": "stars", "bands": [[60, 2], [None, 1]]})
    assert top_range(two) == TopRange(("star2", "star1"), -math.inf)


def test_the_probe_99_points_at_three_stars_computed_70_29_must_be_re_reviewed():
    top = top_range(STARS)
    got = mandatory({"C0101": Proposed(99.0, frozenset({"star3"}), 70.29)}, top, 5.0)
    assert got == {"C0101": (TOP_SCORE, MARGIN)}  # by its score twice, whatever the grade typed
    # the old rule looked at the typed grade only: star3 is not a top grade
    assert "star3" not in top.grades


def test_the_margin_boundaries_worked_by_hand():
    top = top_range(STARS)  # floor 80: the scores below stay under it

    def reasons(score, computed, margin=5.0):
        return mandatory({"U": Proposed(score, frozenset({"star3"}), computed)}, top, margin).get(
            "U", ()
        )

    assert reasons(75.29, 70.29) == ()  # +5.00: exactly the margin is within it
    assert reasons(75.30, 70.29) == (MARGIN,)  # +5.01
    assert reasons(65.29, 70.29) == ()  # −5.00 (a lower score counts the same way)
    assert reasons(65.28, 70.29) == (MARGIN,)  # −5.01
    # the composite is kept to 6 decimals: 75.29 − 70.285714 = 5.004286 > 5
    assert reasons(75.29, 70.285714) == (MARGIN,)
    assert reasons(75.28, 70.285714) == ()  # 4.994286
    assert reasons(70.29, 70.29, margin=0) == () and reasons(70.30, 70.29, margin=0) == (MARGIN,)
    assert reasons(72.0, 70.0, margin=1.99) == (MARGIN,)  # 2.00 > 1.99
    assert beyond_margin(75.29, 70.29, 5) is False and beyond_margin(75.3, 70.29, 5) is True
    # the top range: 80 reaches it, 79.99 does not
    assert reasons(80.0, 79.0) == (TOP_SCORE,) and reasons(79.99, 79.0) == ()
    # no computed score to compare with: re-reviewed
    assert reasons(70.0, None) == (NO_COMPOSITE,)
    with pytest.raises(ValueError):
        reasons(70.0, 70.0, margin=-1)
    with pytest.raises(ValueError):
        reasons(70.0, 70.0, margin=float("nan"))


def test_a_top_grade_below_the_top_score_is_re_reviewed_too():
    # 79 promoted to four stars for improving on last year: its grade is a top grade
    got = mandatory({"U": Proposed(79.0, frozenset({"star4"}), 78.0)}, top_range(STARS), 5.0)
    assert got == {"U": (TOP_GRADE,)}


def test_every_mandatory_proposal_and_a_sample_redrawn_identically_from_its_seed():
    units = [f"C{i:02d}" for i in range(49)]
    always = units[:37]  # say 37 singled out by their scores
    first = review_sample(units, always, rate=0.2, seed=20261123)
    again = review_sample(list(reversed(units)), set(reversed(always)), 0.2, 20261123)
    assert first == again  # same seed, same units, whatever the order given
    assert first[:37] == sorted(always) and len(first) == 37 + 3  # ceil(0.2 × 12) others
    assert set(first[37:]) <= set(units[37:])
    other = review_sample(units, always, rate=0.2, seed=7)
    assert other[:37] == first[:37] and other != first  # another seed, another sample
    assert review_sample(["A"], [], rate=0, seed=1) == []
    assert review_sample(["A", "B"], [], rate=0.01, seed=1) in (["A"], ["B"])  # at least one
    with pytest.raises(ValueError):
        review_sample(units, always, rate=1.5, seed=1)


def test_the_inflation_report_of_the_source_case():
    # 002: a street proposed 11 five-star and 26 four-star; after review 4 and 12 remained
    proposed = {f"C{i:02d}": (92.0, "star5") for i in range(11)}
    proposed |= {f"C{i:02d}": (85.0, "star4") for i in range(11, 37)}
    reviewed = {f"C{i:02d}": (91.0, "star5") for i in range(4)}
    reviewed |= {f"C{i:02d}": (84.0, "star4") for i in range(4, 16)}
    reviewed |= {f"C{i:02d}": (75.0, "star3") for i in range(16, 37)}
    report = inflation_report(proposed, reviewed)
    assert report.units == 37
    assert report.proposed == {"star5": 11, "star4": 26}
    assert report.reviewed == {"star5": 4, "star4": 12, "star3": 21}
    # differences: C00–C03 +1, C04–C10 +8, C11–C15 +1, C16–C36 +10
    assert report.mean_difference == pytest.approx((4 * 1 + 7 * 8 + 5 * 1 + 21 * 10) / 37)
    assert report.largest_upward == 10 and report.largest_unit == "C36"
    with pytest.raises(ValueError):
        inflation_report({"A": (1.0, "x")}, {"B": (1.0, "x")})
