"""The two-level review: a reproducible sample, and the inflation report on a constructed case."""

from __future__ import annotations

import pytest

from evalsurvey.scoring.review import inflation_report, review_sample


def test_every_top_proposal_and_a_sample_redrawn_identically_from_its_seed():
    proposals = {f"C{i:02d}": ("star5" if i < 11 else "star4" if i < 37 else "star3")
                 for i in range(49)}  # fmt: skip
    first = review_sample(proposals, ["star5", "star4"], rate=0.2, seed=20261123)
    again = review_sample(
        dict(reversed(list(proposals.items()))), ["star5", "star4"], 0.2, 20261123
    )
    assert first == again  # same seed, same units, whatever the order given
    top = [u for u in first if proposals[u] in ("star5", "star4")]
    rest = [u for u in first if proposals[u] == "star3"]
    assert len(top) == 37 and len(rest) == 3  # all 37 top proposals, ceil(0.2 × 12) others
    other = review_sample(proposals, ["star5", "star4"], rate=0.2, seed=7)
    assert other[:37] == first[:37] and other != first  # another seed, another sample
    assert review_sample({"A": "star3"}, ["star5"], rate=0, seed=1) == []
    with pytest.raises(ValueError):
        review_sample(proposals, ["star5"], rate=1.5, seed=1)


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
