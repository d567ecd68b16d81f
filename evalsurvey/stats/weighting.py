"""Weights for combining sources: AHP, the entropy method, and the weighted composite."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

# Saaty's random consistency index by matrix order (Saaty 1980; n = 11..15 from
# Saaty 2008 / Alonso & Lamata 2006 tables as commonly tabulated).
RANDOM_INDEX = {
    1: 0.0,
    2: 0.0,
    3: 0.58,
    4: 0.90,
    5: 1.12,
    6: 1.24,
    7: 1.32,
    8: 1.41,
    9: 1.45,
    10: 1.49,
    11: 1.51,
    12: 1.48,
    13: 1.56,
    14: 1.57,
    15: 1.59,
}
CONSISTENCY_LIMIT = 0.1
MISSING_POLICIES = ("renormalize", "require")


@dataclass(frozen=True)
class AHPResult:
    weights: NDArray[np.float64]
    lambda_max: float
    ci: float
    cr: float
    consistent: bool


@dataclass(frozen=True)
class CombineResult:
    """A weighted composite per unit, with what was missing said out loud."""

    score: NDArray[np.float64]  # (units,) NaN where the policy gives no score
    weights: dict[str, float]  # the normalised weights asked for
    used_weight: NDArray[np.float64]  # (units,) share of the total weight present
    missing: list[list[str]] = field(default_factory=list)  # per unit: missing parts
    policy: str = "renormalize"


def ahp_weights(pairwise: ArrayLike) -> AHPResult:
    r"""Weights from a pairwise comparison matrix (analytic hierarchy process).

    ``pairwise[i, j]`` says how much more important criterion ``i`` is than ``j``
    on Saaty's 1–9 scale, with ``pairwise[j, i] = 1 / pairwise[i, j]``. The weights
    are the principal right eigenvector, normalised to sum to 1; then

    .. math:: CI = \frac{\lambda_{max} - n}{n - 1}, \qquad CR = CI / RI_n

    with Saaty's random index :math:`RI_n`. A matrix with :math:`CR \ge 0.1` is
    reported as inconsistent (``consistent=False``): the judgements should be revised.

    Parameters
    ----------
    pairwise : array_like, shape (n, n)
        Positive, reciprocal, ones on the diagonal; ``1 <= n <= 15``.

    Returns
    -------
    AHPResult
        ``weights``, ``lambda_max``, ``ci``, ``cr``, ``consistent``. For n <= 2 every
        reciprocal matrix is consistent: CI = CR = 0.

    Raises
    ------
    ValueError
        Not square, not positive, not reciprocal (to 1e-6), or n > 15.

    References
    ----------
    Saaty, T. L. (1980). The Analytic Hierarchy Process. McGraw-Hill.
    Saaty, T. L. (1990). How to make a decision: the analytic hierarchy process.
    European Journal of Operational Research, 48, 9-26.
    """
    a = np.asarray(pairwise, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"pairwise must be a square matrix; got shape {a.shape}")
    n = a.shape[0]
    if not 1 <= n <= max(RANDOM_INDEX):
        raise ValueError(f"pairwise must have 1 to {max(RANDOM_INDEX)} criteria; got {n}")
    if not np.isfinite(a).all() or (a <= 0).any():
        raise ValueError("pairwise must hold positive finite numbers")
    if not np.allclose(a * a.T, 1.0, atol=1e-6):
        raise ValueError("pairwise must be reciprocal: pairwise[j, i] == 1 / pairwise[i, j]")
    values, vectors = np.linalg.eig(a)
    top = int(np.argmax(values.real))
    lam = float(values[top].real)
    w = np.abs(vectors[:, top].real)
    w = w / w.sum()
    if n <= 2:
        return AHPResult(w, float(n), 0.0, 0.0, True)
    ci = max(0.0, (lam - n) / (n - 1))
    cr = ci / RANDOM_INDEX[n]
    return AHPResult(w, lam, ci, cr, cr < CONSISTENCY_LIMIT)


def entropy_weights(matrix: ArrayLike, normalize: bool = True) -> NDArray[np.float64]:
    r"""Entropy-method weights (熵权法) for a units × indicators matrix.

    Each indicator column is (optionally) min–max scaled to [0, 1], turned into
    shares :math:`p_{ij} = x_{ij} / \sum_i x_{ij}`, and its entropy
    :math:`e_j = -\frac{1}{\ln m} \sum_i p_{ij} \ln p_{ij}` (with :math:`0 \ln 0 = 0`)
    measured over the :math:`m` units. Indicators that separate units more carry
    more weight: :math:`w_j = (1 - e_j) / \sum_l (1 - e_l)`.

    Parameters
    ----------
    matrix : array_like, shape (units, indicators)
        Larger is better in every column; no missing values; non-negative when
        ``normalize`` is False.
    normalize : bool, default True
        Min–max scale each column first (the usual practice for indicators on
        different scales).

    Returns
    -------
    ndarray, shape (indicators,)
        Non-negative weights summing to 1.

    Raises
    ------
    ValueError
        Not 2-D, fewer than 2 units, missing or negative values, or a column that
        sums to zero.

    Notes
    -----
    A constant column has maximal entropy and gets weight 0. If every column is
    constant, nothing separates the units and equal weights are returned.

    References
    ----------
    Shannon, C. E. (1948). A mathematical theory of communication. Bell System
    Technical Journal, 27, 379-423. Zou, Z., Yun, Y., & Sun, J. (2006). Entropy method
    for determination of weight of evaluating indicators in fuzzy synthetic evaluation
    for water quality assessment. Journal of Environmental Sciences, 18(5), 1020-1023.
    """
    x = np.asarray(matrix, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"matrix must be 2-D (units, indicators); got {x.ndim}-D")
    m, n = x.shape
    if m < 2 or n < 1:
        raise ValueError(f"matrix needs at least 2 units and 1 indicator; got {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError("matrix must not contain missing or infinite values")
    if normalize:
        lo, hi = x.min(axis=0), x.max(axis=0)
        span = np.where(hi > lo, hi - lo, 1.0)
        x = np.where(hi > lo, (x - lo) / span, 0.0)
    elif (x < 0).any():
        raise ValueError("matrix must be non-negative when normalize=False")
    totals = x.sum(axis=0)
    constant = totals == 0
    if constant.all():
        return np.full(n, 1.0 / n)
    if not normalize and constant.any():
        raise ValueError(f"matrix column {int(np.argmax(constant))} sums to zero")
    p = x / np.where(constant, 1.0, totals)
    plogp = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    e = -plogp.sum(axis=0) / np.log(m)
    e = np.where(constant, 1.0, e)
    d = np.clip(1.0 - e, 0.0, None)
    if d.sum() == 0:
        return np.full(n, 1.0 / n)
    return d / d.sum()


def combine(
    parts: Mapping[str, ArrayLike], weights: Mapping[str, float], missing: str = "renormalize"
) -> CombineResult:
    r"""Weighted composite of component scores, e.g. citizen 0.4, member 0.2, panel 0.4.

    .. math:: S_i = \frac{\sum_{g \in P_i} w_g s_{gi}}{\sum_{g \in P_i} w_g}

    where :math:`P_i` are the components present for unit :math:`i`.

    Parameters
    ----------
    parts : mapping of str to array_like, each shape (units,)
        Component scores on a common scale; NaN where a unit has no score.
    weights : mapping of str to float
        Non-negative, same keys as ``parts``; normalised to sum to 1.
    missing : {'renormalize', 'require'}
        What to do when a unit lacks a component. ``renormalize``: spread the weight
        over the components present (the unit's ``used_weight`` < 1 says how much
        was present). ``require``: no composite (NaN) for that unit. Either way the
        missing components are listed per unit in ``missing``: never silent.

    Raises
    ------
    ValueError
        Keys differ, a weight is negative or all are zero, parts differ in length,
        or ``missing`` is unknown.
    """
    if missing not in MISSING_POLICIES:
        raise ValueError(f"missing must be one of {', '.join(MISSING_POLICIES)}; got {missing!r}")
    if set(parts) != set(weights):
        extra = sorted(set(weights) ^ set(parts))
        raise ValueError(f"weights and parts must name the same components; differ in {extra}")
    if not parts:
        raise ValueError("parts must name at least one component")
    w = {g: float(v) for g, v in weights.items()}
    if any(v < 0 or not np.isfinite(v) for v in w.values()):
        raise ValueError("weights must be non-negative numbers")
    total = sum(w.values())
    if total <= 0:
        raise ValueError("weights must not all be zero")
    w = {g: v / total for g, v in w.items()}
    names = list(parts)
    arrays = [np.asarray(parts[g], dtype=np.float64) for g in names]
    lengths = {a.shape for a in arrays}
    if len(lengths) != 1 or arrays[0].ndim != 1:
        raise ValueError(f"parts must be 1-D arrays of one length; got shapes {sorted(lengths)}")
    stack = np.vstack(arrays)
    wv = np.array([w[g] for g in names])[:, None]
    present = ~np.isnan(stack)
    used = (wv * present).sum(axis=0)
    weighted = (wv * np.where(present, stack, 0.0)).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.where(used > 0, weighted / np.where(used > 0, used, 1.0), np.nan)
    if missing == "require":
        score = np.where(present.all(axis=0), score, np.nan)
    missing_lists = [
        [names[g] for g in range(len(names)) if not present[g, i]] for i in range(stack.shape[1])
    ]
    return CombineResult(score, w, used, missing_lists, missing)
