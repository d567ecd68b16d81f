"""Trimmed means, intervals, ranks, rater effects, AHP, entropy weights, combine."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from evalsurvey.stats import (
    ahp_weights,
    combine,
    entropy_weights,
    mean_interval,
    rater_effects,
    shared_ranks,
    to_percent,
    trimmed_mean,
    wilson_interval,
)


# Newcombe (1998), Statistics in Medicine 17:857-872, Table II, method 3 (Wilson score).
@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0000, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_newcombe_published(k, n, low, high):
    lo, hi = wilson_interval(k, n)
    assert (round(lo, 4), round(hi, 4)) == (low, high)


def test_wilson_against_statsmodels():
    sm = pytest.importorskip("statsmodels.stats.proportion")
    for k, n in [(0, 1), (3, 7), (50, 50), (912, 1000)]:
        assert wilson_interval(k, n) == pytest.approx(
            sm.proportion_confint(k, n, method="wilson"), abs=1e-12
        )


def test_wilson_rejects_bad_arguments():
    for k, n in [(1, 0), (-1, 5), (6, 5), (1.5, 5)]:
        with pytest.raises(ValueError):
            wilson_interval(k, n)


def test_trimmed_mean_drops_one_high_one_low():
    x = np.array(
        [[70, 95, 80, 60, 85], [90, 90, 90, np.nan, np.nan], [50, 60, np.nan, np.nan, np.nan]]
    )
    out = trimmed_mean(x)
    assert out[0] == pytest.approx((70 + 80 + 85) / 3)
    assert out[1] == pytest.approx(90)
    assert np.isnan(out[2])  # two ratings: nothing left after trimming
    assert trimmed_mean(x, drop=0)[2] == pytest.approx(55)
    with pytest.raises(ValueError, match="drop"):
        trimmed_mean(x, drop=-1)


def test_mean_interval_and_edges():
    res = mean_interval([1, 2, 3, 4, 5])
    # t(0.975, 4) = 2.776445; s = 1.5811
    assert res.low == pytest.approx(3 - 2.776445 * 1.5811388 / np.sqrt(5), rel=1e-6)
    assert np.isnan(mean_interval([4.0]).low) and mean_interval([]).n == 0


def test_to_percent_and_ranks():
    assert list(to_percent([1, 3, 5], 1, 5)) == [0, 50, 100]
    with pytest.raises(ValueError):
        to_percent([1], 5, 5)
    ranks = shared_ranks([84.21, 90.0, 84.24, np.nan, 70])
    assert list(ranks[[1, 0, 2, 4]]) == [1, 2, 2, 4] and np.isnan(ranks[3])


def test_rater_effects_recovers_planted_severity():
    rng = np.random.default_rng(0)
    units = rng.normal(70, 8, 60)
    severity = np.array([5.0, -4.0, 0.0, 1.0, -2.0])
    x = units[:, None] + severity[None, :] + rng.normal(0, 1.0, (60, 5))
    x[rng.random(x.shape) < 0.3] = np.nan  # incomplete design
    fit = rater_effects(x)
    assert fit.severity == pytest.approx(severity - severity.mean(), abs=0.6)
    assert abs(fit.severity.sum()) < 1e-9
    assert np.corrcoef(fit.unit_scores, units)[0, 1] > 0.99
    assert (fit.severity_se > 0).all() and (fit.severity_se < 0.5).all()


def test_rater_effects_matches_dummy_regression():
    """Least squares with unit and rater dummies (an independent route) gives the same fit."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(12, 4))
    x[rng.random(x.shape) < 0.25] = np.nan
    x[:, 0] = np.where(np.isnan(x[:, 0]), 0.3, x[:, 0])  # keep the design connected
    rows, cols = np.nonzero(~np.isnan(x))
    design = np.zeros((rows.size, 12 + 3))
    design[np.arange(rows.size), rows] = 1
    for j in range(1, 4):  # rater 0 is the reference
        design[cols == j, 12 + j - 1] = 1
    coef = np.linalg.lstsq(design, x[rows, cols], rcond=None)[0]
    beta = np.concatenate(([0.0], coef[12:]))
    fit = rater_effects(x)
    assert fit.severity == pytest.approx(beta - beta.mean(), abs=1e-9)
    assert fit.unit_scores == pytest.approx(coef[:12] + beta.mean(), abs=1e-9)


def test_rater_effects_errors():
    with pytest.raises(ValueError, match="connected"):
        rater_effects([[1, np.nan], [np.nan, 2]])
    with pytest.raises(ValueError, match="no rating"):
        rater_effects([[1, np.nan], [2, np.nan]])


panel = arrays(
    np.float64,
    st.tuples(st.integers(4, 10), st.integers(3, 6)),
    elements=st.floats(0, 100, allow_nan=False),
)


@settings(max_examples=50, deadline=None)
@given(panel, st.integers(0, 5), st.floats(-20, 20))
def test_adding_a_constant_to_a_rater_keeps_corrected_comparisons(x, which, c):
    which %= x.shape[1]
    y = x.copy()
    y[:, which] += c
    a, b = rater_effects(x), rater_effects(y)
    # every unit moves by the same c/k: differences (and so ranks) are unchanged
    assert np.allclose(b.unit_scores - a.unit_scores, c / x.shape[1], atol=1e-7)


@settings(max_examples=50, deadline=None)
@given(panel, st.randoms(use_true_random=False))
def test_rater_effects_invariant_to_relabelling(x, rnd):
    rows, cols = list(range(x.shape[0])), list(range(x.shape[1]))
    rnd.shuffle(rows)
    rnd.shuffle(cols)
    a, b = rater_effects(x), rater_effects(x[rows][:, cols])
    assert np.allclose(a.unit_scores[rows], b.unit_scores, atol=1e-7)
    assert np.allclose(a.severity[cols], b.severity, atol=1e-7)


def test_ahp_consistent_matrix_recovers_weights():
    w = np.array([0.5, 0.3, 0.15, 0.05])
    res = ahp_weights(w[:, None] / w[None, :])
    assert res.weights == pytest.approx(w)
    assert res.lambda_max == pytest.approx(4) and res.cr == pytest.approx(0, abs=1e-9)
    assert res.consistent


def test_ahp_three_criteria_example_against_power_iteration():
    a = np.array([[1, 1 / 3, 1 / 2], [3, 1, 3], [2, 1 / 3, 1]])
    res = ahp_weights(a)
    v = np.ones(3)
    for _ in range(200):  # independent route to the principal eigenvector
        v = a @ v
        v /= v.sum()
    assert res.weights == pytest.approx(v, abs=1e-9)
    assert res.lambda_max == pytest.approx(float((a @ v / v).mean()), abs=1e-9)
    assert res.ci == pytest.approx((res.lambda_max - 3) / 2)
    assert res.cr == pytest.approx(res.ci / 0.58)  # Saaty's RI for n = 3
    assert res.consistent


def test_ahp_flags_inconsistency_and_bad_input():
    a = np.array([[1, 9, 1 / 9], [1 / 9, 1, 9], [9, 1 / 9, 1]])  # circular preferences
    res = ahp_weights(a)
    assert res.cr >= 0.1 and not res.consistent
    with pytest.raises(ValueError, match="reciprocal"):
        ahp_weights([[1, 2], [2, 1]])
    with pytest.raises(ValueError, match="square"):
        ahp_weights([[1, 2, 3]])


def test_entropy_weights_hand_computed():
    # column 0 separates units; column 1 is constant (no information)
    x = np.array([[1.0, 5.0], [2.0, 5.0], [3.0, 5.0]])
    w = entropy_weights(x)
    assert w == pytest.approx([1.0, 0.0])
    # without scaling: p = (1/6, 2/6, 3/6); e = -sum p ln p / ln 3
    x2 = np.array([[1.0, 1.0], [2.0, 1.0], [3.0, 2.0]])
    p0 = np.array([1, 2, 3]) / 6
    p1 = np.array([1, 1, 2]) / 4
    d = 1 - np.array([-(p0 * np.log(p0)).sum(), -(p1 * np.log(p1)).sum()]) / np.log(3)
    assert entropy_weights(x2, normalize=False) == pytest.approx(d / d.sum())
    assert entropy_weights(np.ones((3, 4))) == pytest.approx(np.full(4, 0.25))
    with pytest.raises(ValueError, match="non-negative"):
        entropy_weights([[-1.0, 2.0], [1.0, 1.0]], normalize=False)


@settings(max_examples=60, deadline=None)
@given(
    arrays(
        np.float64,
        st.tuples(st.integers(2, 12), st.integers(1, 6)),
        elements=st.floats(0, 1000, allow_nan=False),
    )
)
def test_entropy_weights_sum_to_one(x):
    w = entropy_weights(x)
    assert w.sum() == pytest.approx(1.0) and (w >= 0).all()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.01, 9), min_size=2, max_size=8))
def test_ahp_weights_sum_to_one(values):
    v = np.array(values)
    rng = np.random.default_rng(len(values))
    a = v[:, None] / v[None, :] * np.exp(rng.normal(0, 0.2, (len(v), len(v))))
    lower = np.tril_indices(len(v), -1)
    a[lower] = 1 / a.T[lower]  # make it reciprocal
    np.fill_diagonal(a, 1.0)
    assert ahp_weights(a).weights.sum() == pytest.approx(1.0)


def test_combine_reports_missing_components():
    res = combine(
        {"citizen": [80, 90, np.nan], "panel": [60, np.nan, np.nan]}, {"citizen": 0.7, "panel": 0.3}
    )
    assert res.score[0] == pytest.approx(0.7 * 80 + 0.3 * 60)
    assert res.score[1] == pytest.approx(90)  # renormalised over what is present
    assert res.used_weight[1] == pytest.approx(0.7)
    assert np.isnan(res.score[2])
    assert res.missing == [[], ["panel"], ["citizen", "panel"]]
    strict = combine({"a": [1, np.nan], "b": [2, 3]}, {"a": 1, "b": 1}, missing="require")
    assert strict.score[0] == pytest.approx(1.5) and np.isnan(strict.score[1])
    with pytest.raises(ValueError, match="same components"):
        combine({"a": [1]}, {"b": 1})
    with pytest.raises(ValueError, match="non-negative"):
        combine({"a": [1]}, {"a": -1})


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["citizen", "member", "panel", "leader"]), st.floats(0.01, 10), min_size=1
    )
)
def test_combine_weights_sum_to_one(weights):
    parts = {g: np.array([50.0, 70.0]) for g in weights}
    res = combine(parts, weights)
    assert sum(res.weights.values()) == pytest.approx(1.0)
    assert res.score == pytest.approx([50.0, 70.0])
