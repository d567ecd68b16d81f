"""Rater effects: how lenient or severe each identified rater is."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.sparse import csgraph, csr_matrix

from evalsurvey.stats._checks import ratings_matrix


@dataclass(frozen=True)
class RaterEffects:
    """Fit of rating = unit + rater severity + error."""

    unit_scores: NDArray[np.float64]  # (units,) severity-corrected unit means
    severity: NDArray[np.float64]  # (raters,) centred on zero; > 0 lenient, < 0 severe
    severity_se: NDArray[np.float64]  # (raters,) standard errors
    sigma: float  # residual standard deviation
    df_resid: int
    n_per_rater: NDArray[np.int64]
    residuals: NDArray[np.float64]  # (units, raters), NaN where missing


def rater_effects(x: ArrayLike) -> RaterEffects:
    r"""Fit the additive model :math:`y_{ij} = \alpha_i + \beta_j + \varepsilon_{ij}`.

    :math:`\alpha_i` is unit :math:`i`'s score, :math:`\beta_j` rater :math:`j`'s
    severity (centred: :math:`\sum_j \beta_j = 0`; positive means the rater scores
    above the others, i.e. is lenient). Least squares over the observed cells only.
    Eliminating the unit effects leaves the reduced normal equations of an incomplete
    block design,

    .. math::

        C \beta = q, \quad C = \operatorname{diag}(r_j) - N^\top D^{-1} N, \quad
        q_j = \sum_{i \in O_j} (y_{ij} - \bar y_{i\cdot})

    with :math:`N` the units × raters incidence, :math:`D` the units' counts and
    :math:`r_j` the raters' counts; then :math:`\alpha_i = \bar y_{i\cdot} -
    \operatorname{mean}_{j \in O_i} \beta_j` and
    :math:`\operatorname{Var}(\hat\beta) = \sigma^2 C^{+}`, :math:`\hat\sigma^2 =
    RSS / (N_{obs} - n - k + 1)`. Cost: :math:`O(N_{obs} + n k^2 + k^3)`.

    Parameters
    ----------
    x : array_like, shape (units, raters)
        NaN marks a rater who did not rate a unit.

    Returns
    -------
    RaterEffects

    Raises
    ------
    ValueError
        Fewer than 2 raters; a rater or unit with no rating; or raters that cannot be
        compared because no chain of shared units links them (a disconnected design,
        where severity is not identifiable).

    Notes
    -----
    Adding a constant :math:`c` to every rating of one rater raises that rater's
    severity by :math:`c (1 - 1/k)` and every unit score by :math:`c / k`: the
    comparison between units is unchanged, which is the point. With no residual
    degrees of freedom (e.g. one rater per unit) the standard errors are NaN.

    References
    ----------
    Linacre, J. M. (1989). Many-facet Rasch measurement. MESA Press (the additive
    rater-severity idea). Searle, S. R. (1971). Linear Models, ch. 7 (two-way
    classification with unequal/missing cells).
    """
    arr = ratings_matrix(x, "x", min_raters=2)
    present = ~np.isnan(arr)
    n_units, k = arr.shape
    per_unit = present.sum(axis=1)
    per_rater = present.sum(axis=0)
    if (per_rater == 0).any():
        raise ValueError(f"x: rater column {int(np.argmax(per_rater == 0))} has no rating")
    if (per_unit == 0).any():
        raise ValueError(f"x: unit row {int(np.argmax(per_unit == 0))} has no rating")
    incidence = present.astype(np.float64)
    rows, cols = np.nonzero(present)
    graph = csr_matrix(
        (np.ones(rows.size), (rows, n_units + cols)), shape=(n_units + k, n_units + k)
    )
    n_components = csgraph.connected_components(graph, directed=False)[0]
    if n_components > 1:
        raise ValueError(
            "x: the raters do not form one connected design (some groups of "
            "raters share no unit), so their severities cannot be compared"
        )
    y = np.where(present, arr, 0.0)
    unit_means = y.sum(axis=1) / per_unit
    q = (np.where(present, arr - unit_means[:, None], 0.0)).sum(axis=0)
    c = np.diag(per_rater.astype(np.float64)) - (incidence / per_unit[:, None]).T @ incidence
    # C is singular only along the constant vector (the design is connected), so
    # C⁺ = (C + J/k)⁻¹ − J/k exactly; a generic pinv can invert rounding noise in the
    # null eigenvalue into a huge negative variance (seen with OpenBLAS 0.3.31's eigh)
    ones = np.full((k, k), 1.0 / k)
    c_pinv = np.linalg.inv(c + ones) - ones
    severity = c_pinv @ q
    severity -= severity.mean()
    unit_scores = unit_means - (incidence @ severity) / per_unit
    fitted = unit_scores[:, None] + severity[None, :]
    residuals = np.where(present, arr - fitted, np.nan)
    df_resid = int(present.sum() - n_units - k + 1)
    if df_resid > 0:
        sigma = float(np.sqrt(np.nansum(residuals**2) / df_resid))
        se = sigma * np.sqrt(np.clip(np.diag(c_pinv), 0, None))
    else:
        sigma = float("nan")
        se = np.full(k, np.nan)
    return RaterEffects(
        unit_scores, severity, se, sigma, df_resid, per_rater.astype(np.int64), residuals
    )
