"""Agreement between raters: ICC, Kendall's W, Krippendorff's alpha.

Every function takes ratings shaped ``(units, raters)`` with NaN for a missing cell.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats as sps

from evalsurvey.stats._checks import complete_rows, ratings_matrix

ICC_FORMS = ("ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k")
LEVELS = ("nominal", "ordinal", "interval", "ratio")


@dataclass(frozen=True)
class ICCResult:
    """One intraclass correlation form."""

    value: float
    f: float
    df1: float
    df2: float
    pvalue: float
    ci95: tuple[float, float]


@dataclass(frozen=True)
class KendallWResult:
    statistic: float
    chi2: float
    df: int
    pvalue: float
    n_units: int
    n_raters: int


def icc(x: ArrayLike) -> dict[str, ICCResult]:
    r"""Intraclass correlations in the six Shrout & Fleiss forms.

    With :math:`n` units (targets) and :math:`k` raters, the two-way ANOVA gives the
    mean squares for units :math:`MS_R`, raters :math:`MS_C`, residual :math:`MS_E`
    and within units :math:`MS_W`. Then

    .. math::

        ICC1 &= \frac{MS_R - MS_W}{MS_R + (k-1) MS_W}, \quad
        ICC1k = \frac{MS_R - MS_W}{MS_R} \\
        ICC2 &= \frac{MS_R - MS_E}{MS_R + (k-1) MS_E + k (MS_C - MS_E) / n}, \quad
        ICC2k = \frac{MS_R - MS_E}{MS_R + (MS_C - MS_E) / n} \\
        ICC3 &= \frac{MS_R - MS_E}{MS_R + (k-1) MS_E}, \quad
        ICC3k = \frac{MS_R - MS_E}{MS_R}

    F tests: ICC1 forms use :math:`F = MS_R / MS_W` on :math:`(n-1, n(k-1))`
    degrees of freedom; ICC2 and ICC3 forms :math:`F = MS_R / MS_E` on
    :math:`(n-1, (n-1)(k-1))`. 95% intervals follow McGraw & Wong (1996), with
    Satterthwaite's degrees of freedom for ICC2.

    Parameters
    ----------
    x : array_like, shape (units, raters)
        Ratings; NaN marks a missing cell.

    Returns
    -------
    dict of str to ICCResult
        Keyed ``ICC1, ICC2, ICC3, ICC1k, ICC2k, ICC3k``.

    Raises
    ------
    ValueError
        If ``x`` is not 2-D numeric, has fewer than 2 raters, or fewer than 2 units
        without a missing rating.

    Notes
    -----
    Missing cells: the ANOVA needs a complete design, so units (rows) with any
    missing rating are dropped (listwise deletion), as in most statistics
    packages. Zero variance: when every rating is equal the mean squares are 0,
    the coefficients are undefined and are returned as NaN (never a warning).

    References
    ----------
    Shrout, P. E., & Fleiss, J. L. (1979). Intraclass correlations: uses in assessing
    rater reliability. Psychological Bulletin, 86(2), 420-428.
    McGraw, K. O., & Wong, S. P. (1996). Forming inferences about some intraclass
    correlation coefficients. Psychological Methods, 1(1), 30-46.
    """
    arr = ratings_matrix(x, "x", min_raters=2)
    arr = complete_rows(arr, "x", 2)
    n, k = arr.shape
    grand = arr.mean()
    ss_total = ((arr - grand) ** 2).sum()
    ss_rows = k * ((arr.mean(axis=1) - grand) ** 2).sum()
    ss_cols = n * ((arr.mean(axis=0) - grand) ** 2).sum()
    ss_err = ss_total - ss_rows - ss_cols
    # Sums of squares that are zero in exact arithmetic come out as ±1e-30 noise, and the
    # order of rows or columns decides which: snap them to zero so relabelling never matters.
    tiny = 1e-12 * ss_total
    ss_rows, ss_cols, ss_err = (0.0 if abs(v) <= tiny else v for v in (ss_rows, ss_cols, ss_err))
    df_r, df_c, df_e, df_w = n - 1, k - 1, (n - 1) * (k - 1), n * (k - 1)
    msr, msc = ss_rows / df_r, ss_cols / df_c
    mse = max(ss_err, 0.0) / df_e
    msw = (ss_cols + max(ss_err, 0.0)) / df_w

    with np.errstate(divide="ignore", invalid="ignore"):
        # a denominator that is zero in exact arithmetic must not become 1e-16 noise
        size = k * (msr + msc + msw + mse)
        v1 = _div(msr - msw, msr + (k - 1) * msw, size)
        v2 = _div(msr - mse, msr + (k - 1) * mse + k * (msc - mse) / n, size)
        v3 = _div(msr - mse, msr + (k - 1) * mse, size)
        v1k = _div(msr - msw, msr, size)
        v2k = _div(msr - mse, msr + (msc - mse) / n, size)
        v3k = _div(msr - mse, msr, size)
        f1, f3 = _div(msr, msw, size), _div(msr, mse, size)
        fc = _div(msc, mse, size)

        # McGraw & Wong (1996) confidence limits
        f1l = f1 / sps.f.ppf(0.975, df_r, df_w)
        f1u = f1 * sps.f.ppf(0.975, df_w, df_r)
        f3l = f3 / sps.f.ppf(0.975, df_r, df_e)
        f3u = f3 * sps.f.ppf(0.975, df_e, df_r)
        ci1 = ((f1l - 1) / (f1l + k - 1), (f1u - 1) / (f1u + k - 1))
        ci3 = ((f3l - 1) / (f3l + k - 1), (f3u - 1) / (f3u + k - 1))
        ci1k = (1 - 1 / f1l, 1 - 1 / f1u)
        ci3k = (1 - 1 / f3l, 1 - 1 / f3u)
        vn = df_e * (k * v2 * fc + n * (1 + (k - 1) * v2) - k * v2) ** 2
        vd = df_r * k**2 * v2**2 * fc**2 + (n * (1 + (k - 1) * v2) - k * v2) ** 2
        nu = _div(vn, vd)
        f2u = sps.f.ppf(0.975, df_r, nu)
        f2l = sps.f.ppf(0.975, nu, df_r)
        low2 = n * (msr - f2u * mse) / (f2u * (k * msc + (k * n - k - n) * mse) + n * msr)
        up2 = n * (f2l * msr - mse) / (k * msc + (k * n - k - n) * mse + n * f2l * msr)
        ci2 = (low2, up2)
        ci2k = (low2 * k / (1 + low2 * (k - 1)), up2 * k / (1 + up2 * (k - 1)))
        p1 = sps.f.sf(f1, df_r, df_w)
        p3 = sps.f.sf(f3, df_r, df_e)

    def res(value, f, d1, d2, p, ci) -> ICCResult:
        return ICCResult(
            float(value), float(f), float(d1), float(d2), float(p), (float(ci[0]), float(ci[1]))
        )

    return {
        "ICC1": res(v1, f1, df_r, df_w, p1, ci1),
        "ICC2": res(v2, f3, df_r, df_e, p3, ci2),
        "ICC3": res(v3, f3, df_r, df_e, p3, ci3),
        "ICC1k": res(v1k, f1, df_r, df_w, p1, ci1k),
        "ICC2k": res(v2k, f3, df_r, df_e, p3, ci2k),
        "ICC3k": res(v3k, f3, df_r, df_e, p3, ci3k),
    }


def _div(a, b, scale: float = 0.0):
    """a / b, NaN where b is 0 — or round-off next to ``scale`` — and never a warning."""
    a, b = np.float64(a), np.float64(b)
    if np.isnan(b) or abs(b) <= 1e-12 * scale or b == 0:
        return np.float64(np.nan)
    return a / b


def kendall_w(x: ArrayLike) -> KendallWResult:
    r"""Kendall's coefficient of concordance with the tie correction.

    Each rater (column) ranks the units (rows), ties sharing their mean rank. With
    :math:`m` raters, :math:`n` units, rank sums :math:`R_i` and
    :math:`S = \sum_i (R_i - \bar R)^2`,

    .. math::

        W = \frac{12 S}{m^2 (n^3 - n) - m \sum_j T_j}, \qquad
        T_j = \sum_{\text{ties of rater } j} (t^3 - t)

    and :math:`\chi^2 = m (n - 1) W` on :math:`n - 1` degrees of freedom.

    Parameters
    ----------
    x : array_like, shape (units, raters)

    Returns
    -------
    KendallWResult
        ``statistic`` (W), ``chi2``, ``df``, ``pvalue``, and the numbers of units and
        raters used.

    Raises
    ------
    ValueError
        Fewer than 2 raters, or fewer than 2 units without a missing rating.

    Notes
    -----
    Missing cells: W compares complete rankings, so units with any missing rating
    are dropped (listwise). If every rater gives every unit the same score, W is
    undefined and returned as NaN with p = NaN.

    References
    ----------
    Kendall, M. G., & Babington Smith, B. (1939). The problem of m rankings. Annals of
    Mathematical Statistics, 10(3), 275-287.
    Siegel, S., & Castellan, N. J. (1988). Nonparametric Statistics for the Behavioral
    Sciences (2nd ed.), section 9.4. McGraw-Hill.
    """
    arr = ratings_matrix(x, "x", min_raters=2)
    arr = complete_rows(arr, "x", 2)
    n, m = arr.shape
    ranks = sps.rankdata(arr, axis=0)
    sums = ranks.sum(axis=1)
    s = float(((sums - sums.mean()) ** 2).sum())
    ties = 0.0
    for j in range(m):
        _, counts = np.unique(arr[:, j], return_counts=True)
        ties += float((counts**3 - counts).sum())
    denom = m**2 * (n**3 - n) - m * ties
    if denom <= 0:
        return KendallWResult(float("nan"), float("nan"), n - 1, float("nan"), n, m)
    w = 12 * s / denom
    chi2 = m * (n - 1) * w
    return KendallWResult(float(w), float(chi2), n - 1, float(sps.chi2.sf(chi2, n - 1)), n, m)


def krippendorff_alpha(x: ArrayLike, level: str = "interval") -> float:
    r"""Krippendorff's alpha for any number of raters, missing cells allowed.

    From the coincidence matrix :math:`o_{ck} = \sum_u \frac{n_{uc} n_{uk} -
    [c = k] n_{uc}}{m_u - 1}` over units with :math:`m_u \ge 2` ratings, with
    marginals :math:`n_c` and total :math:`n`,

    .. math::

        \alpha = 1 - (n - 1) \frac{\sum_{c,k} o_{ck}\, \delta^2_{ck}}
                                 {\sum_{c,k} n_c n_k\, \delta^2_{ck}}

    where :math:`\delta^2` is the metric of the level: nominal :math:`[c \ne k]`;
    ordinal :math:`(\sum_{g=c}^{k} n_g - (n_c + n_k)/2)^2`; interval
    :math:`(c - k)^2`; ratio :math:`((c - k)/(c + k))^2`.

    Parameters
    ----------
    x : array_like, shape (units, raters)
        NaN marks a missing cell. Units with fewer than two ratings are not pairable
        and are ignored.
    level : {'nominal', 'ordinal', 'interval', 'ratio'}

    Returns
    -------
    float
        Alpha; 1 is perfect agreement, 0 agreement at chance level. NaN when the
        data hold a single value (no expected disagreement).

    Raises
    ------
    ValueError
        Unknown ``level``; no unit with two or more ratings; negative values at the
        ratio level.

    References
    ----------
    Krippendorff, K. (2011). Computing Krippendorff's Alpha-Reliability. Annenberg
    School for Communication, University of Pennsylvania.
    Hayes, A. F., & Krippendorff, K. (2007). Answering the call for a standard
    reliability measure for coding data. Communication Methods and Measures, 1, 77-89.
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}; got {level!r}")
    arr = ratings_matrix(x, "x")
    present = ~np.isnan(arr)
    m_u = present.sum(axis=1)
    pairable = m_u >= 2
    if not pairable.any():
        raise ValueError("x has no unit with two or more ratings: alpha is undefined")
    arr, present, m_u = arr[pairable], present[pairable], m_u[pairable]
    values, codes = np.unique(arr[present], return_inverse=True)
    if level == "ratio" and (values < 0).any():
        raise ValueError("ratio level needs non-negative values")
    n_units, n_values = arr.shape[0], values.size
    rows = np.nonzero(present)[0]
    counts = np.zeros((n_units, n_values))
    np.add.at(counts, (rows, codes), 1.0)
    weights = 1.0 / (m_u - 1)
    coincidence = (counts * weights[:, None]).T @ counts
    coincidence -= np.diag((counts * weights[:, None]).sum(axis=0))
    n_c = coincidence.sum(axis=1)
    n_total = n_c.sum()
    delta = _delta2(values, n_c, level)
    expected = (np.outer(n_c, n_c) * delta).sum()
    if expected == 0:
        return float("nan")
    observed = (coincidence * delta).sum()
    return float(1.0 - (n_total - 1) * observed / expected)


def _delta2(values: np.ndarray, n_c: np.ndarray, level: str) -> np.ndarray:
    c, k = np.meshgrid(values, values, indexing="ij")
    if level == "nominal":
        return (c != k).astype(float)
    if level == "interval":
        return (c - k) ** 2
    if level == "ratio":
        total = c + k
        with np.errstate(divide="ignore", invalid="ignore"):
            d = np.where(total == 0, 0.0, (c - k) / np.where(total == 0, 1, total))
        return d**2
    cum = np.cumsum(n_c)
    i, j = np.meshgrid(np.arange(values.size), np.arange(values.size), indexing="ij")
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    between = cum[hi] - np.where(lo > 0, cum[lo - 1], 0.0)
    return (between - (n_c[i] + n_c[j]) / 2) ** 2
