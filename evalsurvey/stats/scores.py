"""Per-unit scores: trimmed means, intervals for rates and means, shared ranks."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats as sps

from evalsurvey.stats._checks import check_confidence, ratings_matrix


@dataclass(frozen=True)
class MeanInterval:
    mean: float
    low: float
    high: float
    n: int


def trimmed_mean(x: ArrayLike, drop: int = 1) -> NDArray[np.float64]:
    r"""Per unit, drop the ``drop`` highest and ``drop`` lowest ratings, then average.

    This is the panels' rule "去掉最高分和最低分": with a unit's :math:`m` present
    ratings sorted :math:`r_{(1)} \le \dots \le r_{(m)}`,

    .. math:: T = \frac{1}{m - 2d} \sum_{i=d+1}^{m-d} r_{(i)}

    Parameters
    ----------
    x : array_like, shape (units, raters)
        NaN marks a missing rating; missing ratings are not counted.
    drop : int, default 1
        How many ratings to drop at each end (``d``); 0 gives the plain mean.

    Returns
    -------
    ndarray, shape (units,)
        One value per unit.

    Raises
    ------
    ValueError
        ``drop`` negative or not an integer; ``x`` not 2-D numeric.

    Notes
    -----
    Too few ratings: a unit needs more than ``2 * drop`` ratings, so that at least
    one remains after trimming; otherwise its value is NaN (the rule cannot be
    applied honestly, so no score is invented). Ties at the ends are dropped once
    each, as a panel secretary crosses out one highest and one lowest sheet.
    """
    if not isinstance(drop, int | np.integer) or isinstance(drop, bool) or drop < 0:
        raise ValueError(f"drop must be a non-negative integer; got {drop!r}")
    arr = ratings_matrix(x, "x")
    counts = (~np.isnan(arr)).sum(axis=1)
    # NaN sorts last, so the present ratings of each row lead in ascending order
    ordered = np.sort(arr, axis=1)
    out = np.full(arr.shape[0], np.nan)
    for m in np.unique(counts):
        if m <= 2 * drop:
            continue
        rows = counts == m
        out[rows] = ordered[rows, drop : m - drop].mean(axis=1)
    return out


def wilson_interval(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    r"""Wilson score interval for a proportion (e.g. the satisfied rate).

    .. math::

        \frac{\hat p + \frac{z^2}{2n} \pm z \sqrt{\frac{\hat p (1 - \hat p)}{n}
        + \frac{z^2}{4 n^2}}}{1 + \frac{z^2}{n}}, \qquad \hat p = k / n

    Parameters
    ----------
    k : int
        Successes, ``0 <= k <= n``.
    n : int
        Trials, ``n >= 1``.
    confidence : float, default 0.95

    Returns
    -------
    (low, high) : tuple of float
        Within [0, 1]; unlike the Wald interval it stays sensible at k = 0 or k = n.

    Raises
    ------
    ValueError
        ``n < 1``, ``k`` outside ``0..n``, or ``confidence`` outside (0, 1).

    References
    ----------
    Wilson, E. B. (1927). Probable inference, the law of succession, and statistical
    inference. JASA, 22, 209-212.
    Newcombe, R. G. (1998). Two-sided confidence intervals for the single proportion:
    comparison of seven methods. Statistics in Medicine, 17, 857-872.
    """
    if int(n) != n or n < 1:
        raise ValueError(f"n must be a positive integer; got {n!r}")
    if int(k) != k or not 0 <= k <= n:
        raise ValueError(f"k must be an integer between 0 and n={n}; got {k!r}")
    check_confidence(confidence)
    z = float(sps.norm.ppf(0.5 + confidence / 2))
    p = k / n
    centre = p + z * z / (2 * n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    denom = 1 + z * z / n
    return (max(0.0, (centre - half) / denom), min(1.0, (centre + half) / denom))


def mean_interval(values: ArrayLike, confidence: float = 0.95) -> MeanInterval:
    r"""Mean with a Student-t confidence interval, :math:`\bar x \pm t_{n-1} s / \sqrt n`.

    Parameters
    ----------
    values : array_like, 1-D
        NaN values are ignored.
    confidence : float, default 0.95

    Returns
    -------
    MeanInterval
        ``mean, low, high, n``. With n = 1 the interval is (NaN, NaN); with n = 0 all
        three are NaN. Zero variance gives a zero-width interval.

    Raises
    ------
    ValueError
        ``values`` not 1-D, or ``confidence`` outside (0, 1).
    """
    check_confidence(confidence)
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"values must be 1-D; got {arr.ndim}-D")
    arr = arr[~np.isnan(arr)]
    n = int(arr.size)
    if n == 0:
        return MeanInterval(float("nan"), float("nan"), float("nan"), 0)
    mean = float(arr.mean())
    if n == 1:
        return MeanInterval(mean, float("nan"), float("nan"), 1)
    half = float(sps.t.ppf(0.5 + confidence / 2, n - 1) * arr.std(ddof=1) / math.sqrt(n))
    return MeanInterval(mean, mean - half, mean + half, n)


def to_percent(values: ArrayLike, low: float, high: float) -> NDArray[np.float64]:
    r"""Map a rating scale linearly onto 0–100: :math:`100 (v - low) / (high - low)`.

    Raises
    ------
    ValueError
        ``high <= low``.
    """
    if not high > low:
        raise ValueError(f"the scale needs high > low; got low={low}, high={high}")
    return (np.asarray(values, dtype=np.float64) - low) * (100.0 / (high - low))


def shared_ranks(scores: ArrayLike, decimals: int | None = 1) -> NDArray[np.float64]:
    """Competition ranks (1, 2, 2, 4), highest score first; NaN scores get NaN.

    Scores equal at the published precision (``decimals``) share a rank, so two
    units shown as 84.2 never get different places.
    """
    arr = np.asarray(scores, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"scores must be 1-D; got {arr.ndim}-D")
    keyed = np.round(arr, decimals) if decimals is not None else arr
    out = np.full(arr.shape, np.nan)
    ok = ~np.isnan(keyed)
    # rank "min" of the negated scores: ties share the best place
    out[ok] = sps.rankdata(-keyed[ok], method="min")
    return out
