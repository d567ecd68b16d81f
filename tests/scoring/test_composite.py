"""The composite: every term shown, the terms add up, the missing-component policy explicit."""

from __future__ import annotations

import pytest

from evalsurvey.scoring.composite import composite


def test_terms_add_up_and_missing_components_are_named():
    parts = {
        "inspection": {"A": 90.0, "B": 80.0, "C": 70.0},
        "panel": {"A": 80.0, "B": None, "C": 75.0},
        "citizen": {"A": 70.0, "B": 90.0, "C": None},
    }
    weights = {"inspection": 0.6, "panel": 0.2, "citizen": 0.2}
    got = {r.unit: r for r in composite(parts, weights)}
    a = got["A"]
    # 0.6 × 90 + 0.2 × 80 + 0.2 × 70 = 54 + 16 + 14 = 84
    assert a.score == pytest.approx(84) and a.missing == () and a.used_weight == pytest.approx(1)
    assert [t.contribution for t in a.terms] == pytest.approx([54, 16, 14])
    b = got["B"]
    # renormalised over the 0.8 present: (0.6 × 80 + 0.2 × 90) / 0.8 = 82.5
    assert b.score == pytest.approx(82.5) and b.missing == ("panel",)
    assert sum(t.contribution for t in b.terms if t.contribution is not None) == pytest.approx(
        b.score
    )
    assert (a.rank, b.rank, got["C"].rank) == (1, 2, 3)
    strict = {r.unit: r for r in composite(parts, weights, missing="require")}
    assert strict["A"].score == pytest.approx(84) and strict["B"].score is None
    assert strict["B"].rank is None and strict["B"].missing == ("panel",)


def test_weights_must_be_sensible():
    with pytest.raises(ValueError, match="not all be zero"):
        composite({"a": {"U": 1.0}}, {"a": 0})
    with pytest.raises(ValueError, match="missing must be"):
        composite({"a": {"U": 1.0}}, {"a": 1}, missing="ignore")
