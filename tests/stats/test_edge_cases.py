"""Documented edge cases: n < 2, zero variance, all missing. numpy must never merely warn.

pytest turns every warning into an error (pyproject), so each call here either returns
or raises a ValueError that names the problem.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from evalsurvey import stats

NAN = np.nan


def test_zero_variance_everywhere():
    flat = np.full((6, 4), 3.0)
    assert all(np.isnan(r.value) for r in stats.icc(flat).values())
    w = stats.kendall_w(flat)
    assert np.isnan(w.statistic) and np.isnan(w.pvalue)
    assert np.isnan(stats.krippendorff_alpha(flat, "ordinal"))
    fit = stats.rater_effects(flat)
    assert np.allclose(fit.severity, 0) and np.allclose(fit.unit_scores, 3)
    res = stats.mean_interval([5.0, 5.0, 5.0])
    assert res.low == res.high == 5.0
    assert (stats.trimmed_mean(flat) == 3).all()


def test_all_missing_and_too_few():
    empty = np.full((3, 3), NAN)
    assert np.isnan(stats.trimmed_mean(empty)).all()
    with pytest.raises(ValueError, match="complete units"):
        stats.icc(empty)
    with pytest.raises(ValueError, match="complete units"):
        stats.kendall_w(empty)
    with pytest.raises(ValueError, match="two or more ratings"):
        stats.krippendorff_alpha(empty)
    with pytest.raises(ValueError, match="no rating"):
        stats.rater_effects(empty)
    assert stats.mean_interval([NAN, NAN]).n == 0
    assert np.isnan(stats.combine({"a": [NAN]}, {"a": 1}).score[0])
    with pytest.raises(ValueError, match="2 units"):
        stats.entropy_weights([[1.0, 2.0]])
    assert stats.ahp_weights([[1.0]]).weights.tolist() == [1.0]
    two = stats.ahp_weights([[1, 3], [1 / 3, 1]])
    assert two.cr == 0 and two.weights == pytest.approx([0.75, 0.25])


def test_bad_arguments_name_themselves():
    with pytest.raises(ValueError, match="x must be 2-D"):
        stats.icc(np.ones(4))
    with pytest.raises(ValueError, match="x contains infinite"):
        stats.kendall_w([[1, np.inf], [2, 3]])
    with pytest.raises(ValueError, match="x must be numeric"):
        stats.krippendorff_alpha([["a", "b"], ["c", "d"]])
    with pytest.raises(ValueError, match="confidence"):
        stats.wilson_interval(1, 2, confidence=1.5)
    with pytest.raises(ValueError, match="missing must be"):
        stats.combine({"a": [1]}, {"a": 1}, missing="ignore")
    with pytest.raises(ValueError, match="ratio"):
        stats.speeders([1.0], [0], ratio=2)
    with pytest.raises(ValueError, match="window"):
        stats.duplicates([0], [0], [0.0], window=0)


messy = arrays(
    np.float64,
    st.tuples(st.integers(1, 7), st.integers(1, 6)),
    elements=st.one_of(st.just(NAN), st.just(2.0), st.floats(0, 10, allow_nan=False)),
)


@settings(max_examples=150, deadline=None)
@given(messy)
def test_no_warning_escapes_on_messy_input(x):
    calls = [
        lambda: stats.icc(x),
        lambda: stats.kendall_w(x),
        lambda: stats.krippendorff_alpha(x, "interval"),
        lambda: stats.krippendorff_alpha(x, "ordinal"),
        lambda: stats.trimmed_mean(x),
        lambda: stats.rater_effects(x),
        lambda: stats.rater_flags(x),
        lambda: stats.straightliners(x),
    ]
    for call in calls:
        try:
            call()
        except ValueError:
            pass  # a named refusal is fine; a RuntimeWarning would have failed the test
