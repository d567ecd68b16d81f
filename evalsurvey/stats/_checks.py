"""Argument checks shared by the statistics (private)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def ratings_matrix(
    x: ArrayLike, name: str = "x", *, min_units: int = 1, min_raters: int = 1
) -> NDArray[np.float64]:
    """A float (units, raters) array with NaN for missing; never ±inf."""
    try:
        arr = np.array(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric (units, raters) ratings: {exc}") from None
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D, shaped (units, raters); got {arr.ndim}-D")
    if np.isinf(arr).any():
        raise ValueError(f"{name} contains infinite values")
    if arr.shape[0] < min_units:
        raise ValueError(f"{name} needs at least {min_units} units (rows); got {arr.shape[0]}")
    if arr.shape[1] < min_raters:
        raise ValueError(f"{name} needs at least {min_raters} raters (columns); got {arr.shape[1]}")
    return arr


def complete_rows(arr: NDArray[np.float64], name: str, min_units: int) -> NDArray[np.float64]:
    """Rows with no missing value (listwise deletion), with at least ``min_units`` left."""
    keep = ~np.isnan(arr).any(axis=1)
    out = arr[keep]
    if out.shape[0] < min_units:
        raise ValueError(
            f"{name} has {out.shape[0]} complete units (rows without NaN); "
            f"at least {min_units} are needed"
        )
    return out


def check_confidence(confidence: float) -> None:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1; got {confidence}")
