"""ICC, Kendall's W and Krippendorff's alpha against published numbers and oracles."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evalsurvey.stats import icc, kendall_w, krippendorff_alpha

# Shrout & Fleiss (1979), Table 2: 6 targets rated by 4 judges.
SHROUT_FLEISS = np.array(
    [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]],
    dtype=float,
)
# Their Table 4 (to two decimals): ICC(1,1) .17, (2,1) .29, (3,1) .71, (1,4) .44, (2,4) .62,
# (3,4) .91; the mean squares are BMS 11.24, WMS 6.26, JMS 32.49, EMS 1.02.
PUBLISHED_ICC = {
    "ICC1": 0.17,
    "ICC2": 0.29,
    "ICC3": 0.71,
    "ICC1k": 0.44,
    "ICC2k": 0.62,
    "ICC3k": 0.91,
}

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", p. 3 example:
# 4 observers (rows here transposed to units × raters), 12 units, missing cells.
KRIPP_2011 = np.array(
    [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, np.nan, np.nan, np.nan],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, np.nan, 3],
        [np.nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, np.nan],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, np.nan],
    ]
).T
PUBLISHED_ALPHA = {"nominal": 0.743, "ordinal": 0.815, "interval": 0.849, "ratio": 0.797}


def test_icc_shrout_fleiss_published_values():
    result = icc(SHROUT_FLEISS)
    for form, value in PUBLISHED_ICC.items():
        assert round(result[form].value, 2) == value, form
    # F for ICC1 is BMS / WMS = 11.24 / 6.26, for ICC2/3 BMS / EMS = 11.24 / 1.02
    assert result["ICC1"].f == pytest.approx(11.2417 / 6.2639, abs=1e-3)
    assert result["ICC3"].f == pytest.approx(11.2417 / 1.0194, abs=1e-2)
    assert (result["ICC1"].df1, result["ICC1"].df2) == (5, 18)
    assert (result["ICC3"].df1, result["ICC3"].df2) == (5, 15)


def _long(x):
    import pandas as pd

    n, k = x.shape
    return pd.DataFrame(
        {"unit": np.repeat(np.arange(n), k), "rater": np.tile(np.arange(k), n), "score": x.ravel()}
    )


@pytest.mark.parametrize("seed", range(5))
def test_icc_equals_pingouin_to_1e9(seed):
    pg = pytest.importorskip("pingouin")
    rng = np.random.default_rng(seed)
    n, k = rng.integers(5, 40), rng.integers(2, 9)
    x = rng.normal(size=(n, 1)) * 2 + rng.normal(size=(n, k)) + rng.normal(size=(1, k))
    ours = icc(x)
    theirs = pg.intraclass_corr(_long(x), "unit", "rater", "score").set_index("Type")
    # pingouin 0.7 labels the forms McGraw & Wong's way (A = absolute, C = consistency)
    names = {
        "ICC1": "ICC(1,1)",
        "ICC2": "ICC(A,1)",
        "ICC3": "ICC(C,1)",
        "ICC1k": "ICC(1,k)",
        "ICC2k": "ICC(A,k)",
        "ICC3k": "ICC(C,k)",
    }
    for ours_name, label in names.items():
        row = theirs.loc[label]
        assert ours[ours_name].value == pytest.approx(row["ICC"], abs=1e-9)
        assert ours[ours_name].f == pytest.approx(row["F"], rel=1e-9)
        assert ours[ours_name].pvalue == pytest.approx(row["pval"], rel=1e-7, abs=1e-12)
        # pingouin rounds its CI to 2 decimals
        assert ours[ours_name].ci95 == pytest.approx(tuple(row["CI95"]), abs=0.0051)


def test_icc_missing_cells_drop_units_listwise():
    x = SHROUT_FLEISS.copy()
    x[0, 1] = np.nan
    assert icc(x)["ICC3"].value == pytest.approx(icc(SHROUT_FLEISS[1:])["ICC3"].value)


def test_icc_edge_cases():
    with pytest.raises(ValueError, match="2 raters"):
        icc(np.ones((5, 1)))
    with pytest.raises(ValueError, match="complete units"):
        icc([[1, np.nan], [2, np.nan], [3, 4]])
    with pytest.raises(ValueError, match="2-D"):
        icc([1, 2, 3])
    flat = icc(np.full((4, 3), 7.0))  # zero variance: NaN, and no warning escapes
    assert np.isnan(flat["ICC1"].value)


# NAG Library, routine G08DAF (Kendall's coefficient of concordance), example program
# results: 3 comparisons of 10 objects, with ties; published W = 0.828, significance 0.008.
NAG_G08DAF = np.array(
    [
        [1.0, 4.5, 2.0, 4.5, 3.0, 7.5, 6.0, 9.0, 7.5, 10.0],
        [2.5, 1.0, 2.5, 4.5, 4.5, 8.0, 9.0, 6.5, 10.0, 6.5],
        [2.0, 1.0, 4.5, 4.5, 4.5, 4.5, 8.0, 8.0, 8.0, 10.0],
    ]
).T


def test_kendall_w_nag_published_example_with_ties():
    result = kendall_w(NAG_G08DAF)
    assert round(result.statistic, 3) == 0.828
    assert round(result.pvalue, 3) == 0.008
    assert (result.df, result.n_units, result.n_raters) == (9, 10, 3)


def test_kendall_w_perfect_and_no_agreement():
    perfect = np.tile(np.arange(6, dtype=float)[:, None], (1, 4))
    assert kendall_w(perfect).statistic == pytest.approx(1.0)
    latin = np.array([[1, 2, 3], [2, 3, 1], [3, 1, 2]], dtype=float)  # balanced: W = 0
    assert kendall_w(latin).statistic == pytest.approx(0.0)


@pytest.mark.parametrize("seed", range(5))
def test_kendall_w_matches_friedman_with_ties(seed):
    from scipy.stats import friedmanchisquare

    rng = np.random.default_rng(seed)
    n, m = rng.integers(4, 20), rng.integers(3, 8)
    x = rng.integers(1, 6, size=(n, m)).astype(float)  # many ties
    w = kendall_w(x)
    # Friedman's tie-corrected statistic with units as treatments, raters as blocks
    chi2, p = friedmanchisquare(*x)
    assert w.chi2 == pytest.approx(chi2, rel=1e-9)
    assert w.pvalue == pytest.approx(p, rel=1e-9)
    assert w.statistic == pytest.approx(chi2 / (m * (n - 1)), rel=1e-9)


def test_kendall_w_against_pingouin():
    pg = pytest.importorskip("pingouin")
    rng = np.random.default_rng(3)
    x = rng.integers(1, 10, size=(12, 5)).astype(float)
    df = _long(x)
    theirs = pg.friedman(data=df, dv="score", within="unit", subject="rater")
    assert kendall_w(x).statistic == pytest.approx(float(theirs["W"].iloc[0]), rel=1e-9)


@pytest.mark.parametrize("level", list(PUBLISHED_ALPHA))
def test_krippendorff_2011_published_values(level):
    assert round(krippendorff_alpha(KRIPP_2011, level), 3) == PUBLISHED_ALPHA[level]


@pytest.mark.parametrize("level", list(PUBLISHED_ALPHA))
@pytest.mark.parametrize("seed", range(4))
def test_krippendorff_equals_reference_package(level, seed):
    kr = pytest.importorskip("krippendorff")
    rng = np.random.default_rng(seed)
    x = rng.integers(1, 6, size=(30, 6)).astype(float)
    x[rng.random(x.shape) < 0.2] = np.nan
    expected = kr.alpha(reliability_data=x.T, level_of_measurement=level)
    assert krippendorff_alpha(x, level) == pytest.approx(expected, abs=1e-9)


def test_krippendorff_edge_cases():
    with pytest.raises(ValueError, match="level"):
        krippendorff_alpha(KRIPP_2011, "fuzzy")
    with pytest.raises(ValueError, match="two or more ratings"):
        krippendorff_alpha([[1, np.nan], [np.nan, 2]])
    assert np.isnan(krippendorff_alpha(np.full((3, 2), 4.0)))
    assert krippendorff_alpha([[1, 1], [2, 2], [3, 3]], "interval") == pytest.approx(1.0)


ratings = st.integers(3, 8).flatmap(
    lambda n: st.integers(2, 5).flatmap(
        lambda k: st.lists(
            st.lists(st.integers(1, 5), min_size=k, max_size=k), min_size=n, max_size=n
        )
    )
)


@settings(max_examples=60, deadline=None)
@given(ratings, st.randoms(use_true_random=False))
def test_relabelling_units_and_raters_changes_nothing(data, rnd):
    x = np.array(data, dtype=float)
    rows = list(range(x.shape[0]))
    cols = list(range(x.shape[1]))
    rnd.shuffle(rows)
    rnd.shuffle(cols)
    y = x[rows][:, cols]
    a, b = icc(x), icc(y)
    for form in a:
        assert np.isclose(a[form].value, b[form].value, equal_nan=True)
    assert np.isclose(kendall_w(x).statistic, kendall_w(y).statistic, equal_nan=True)
    for level in ("nominal", "interval"):
        assert np.isclose(
            krippendorff_alpha(x, level), krippendorff_alpha(y, level), equal_nan=True
        )


def test_stats_package_imports_without_flask_sqlalchemy_or_pandas():
    code = (
        "import sys, evalsurvey.stats; "
        "bad = [m for m in ('flask', 'sqlalchemy', 'pandas') if m in sys.modules]; "
        "sys.exit(1 if bad else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_icc_zero_denominator_is_nan_in_any_order():
    # ICC2k's denominator MSR + (MSC - MSE)/n is exactly 0 here; round-off must not
    # turn it into ±1e16 for one ordering of the units and NaN for another
    x = np.array([[1.0, 4.0], [4.0, 3.0], [3.0, 1.0]])
    for rows in ([0, 1, 2], [2, 0, 1], [1, 2, 0]):
        assert np.isnan(icc(x[rows])["ICC2k"].value)
