"""The batch forecast container every model returns, and interval helpers.

Contract: a model takes an ``(S, T)`` float matrix (``NaN`` = missing), per-series fit start indices, a
horizon ``h`` and a confidence level, and returns a :class:`BatchForecast` whose three arrays are ``(S, h)``
with ``lower <= mean <= upper`` everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from cloudoptima.analytics.forecasting.series import BoolArray, FloatArray


@dataclass(frozen=True)
class BatchForecast:
    """Point forecasts and interval bounds for S series over h periods."""

    mean: FloatArray
    lower: FloatArray
    upper: FloatArray

    def clipped(self, nonnegative: BoolArray) -> BatchForecast:
        """Rows flagged ``nonnegative`` get all three arrays clipped at 0 (costs cannot go below 0)."""
        mask = nonnegative[:, None]
        return BatchForecast(
            mean=np.where(mask, np.maximum(self.mean, 0.0), self.mean),
            lower=np.where(mask, np.maximum(self.lower, 0.0), self.lower),
            upper=np.where(mask, np.maximum(self.upper, 0.0), self.upper),
        )

    def row(self, i: int) -> BatchForecast:
        """The forecast of series ``i`` as a one-row batch."""
        return BatchForecast(self.mean[i : i + 1], self.lower[i : i + 1], self.upper[i : i + 1])


def z_value(level: float) -> float:
    """Two-sided standard-normal quantile for a central interval of probability ``level``."""
    if not 0.0 < level < 1.0:
        raise ValueError(f"confidence level must be strictly between 0 and 1, got {level}")
    return NormalDist().inv_cdf(0.5 + level / 2.0)


def nonnegative_rows(values: FloatArray) -> BoolArray:
    """Rows whose observed values are all ≥ 0 (their forecasts are clipped at 0)."""
    with np.errstate(invalid="ignore"):
        return np.asarray(np.all(np.isnan(values) | (values >= 0), axis=1), dtype=np.bool_)
