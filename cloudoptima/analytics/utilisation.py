"""Summaries of hourly utilisation series (what recommendations and the resources API read).

``summarise`` gives, per metric, the mean, max, p95 and p99 over the present samples, and the number of
samples (so rules can refuse to judge on too little data).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from cloudoptima.domain.inventory import UtilisationSeries


def summarise(series: Iterable[UtilisationSeries]) -> dict[str, dict[str, float]]:
    """``{metric: {"avg", "max", "p95", "p99", "samples"}}`` for every series with at least one sample."""
    summary: dict[str, dict[str, float]] = {}
    for item in series:
        values = np.asarray(item.present(), dtype=float)
        if values.size == 0:
            continue
        summary[str(item.metric)] = summarise_values(values)
    return summary


def summarise_values(values: np.ndarray) -> dict[str, float]:  # type: ignore[type-arg]
    """Mean, max, p95, p99 and sample count of a 1-d array (rounded to 4 places)."""
    return {
        "avg": round(float(values.mean()), 4),
        "max": round(float(values.max()), 4),
        "p95": round(float(np.percentile(values, 95)), 4),
        "p99": round(float(np.percentile(values, 99)), 4),
        "samples": float(values.size),
    }
