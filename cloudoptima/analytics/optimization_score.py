"""A compute instance's optimisation score: 0-100, how much of what it pays for it needs (100 = nothing to win).

Contract (pure; the caller gives the stored utilisation summaries, the status, the monthly cost and the
monthly savings of the live recommendations naming the instance):

- **Utilisation fit** (running instances with at least ``MIN_SAMPLES`` hourly samples of CPU): the busiest of
  CPU and memory at the rightsizing profile's statistics (default Compute Optimizer: p99 of each), as a share
  of the ceiling the rightsizing rule allows on a size (``100 − headroom``, 80 % by default), capped at 100:
  ``fit = min(100, 100 × max(cpu_p99 / 80, memory_p99 / 80))`` (each over its own ceiling). A VM peaking at 8 % CPU scores 10; one peaking at
  40 % scores 50 (it would fit half its capacity at the ceiling); one at 80 % or more scores 100. Memory
  counts only when it has samples too (no memory agent → CPU alone).
- **Open savings**: ``savings = 100 × (1 − live recommendation savings / monthly cost)``, clipped to 0..100
  (100 when nothing is recommended or the instance costs nothing).
- **Score** = the lower of the two when utilisation is known (basis ``utilisation``), else the savings part
  alone (basis ``recommendations``: stopped instances, or too little history to judge).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from cloudoptima.analytics.recommendations.profiles import COMPUTE_OPTIMIZER_RIGHTSIZING, RightsizingProfile

MIN_SAMPLES = 24
"""Hourly CPU samples (one day) needed before utilisation counts."""

ScoreBasis = Literal["utilisation", "recommendations"]


@dataclass(frozen=True)
class OptimizationScore:
    score: int
    basis: ScoreBasis
    utilisation_fit: int | None
    savings_fit: int


def _stat(metrics: Mapping[str, Any], metric: str, stat: str) -> tuple[float, float] | None:
    summary = metrics.get(metric) or {}
    value, samples = summary.get(stat), summary.get("samples")
    if value is None or not samples:
        return None
    return float(value), float(samples)


def optimization_score(
    metrics: Mapping[str, Any],
    *,
    status: str | None,
    monthly_cost: Decimal | None,
    open_savings: Decimal,
    profile: RightsizingProfile = COMPUTE_OPTIMIZER_RIGHTSIZING,
) -> OptimizationScore:
    """The score of one instance (see the module contract)."""
    cost = monthly_cost or Decimal(0)
    savings_fit = 100 if cost <= 0 else int(max(0, min(100, round(100 * (1 - float(open_savings / cost))))))
    cpu = _stat(metrics, "cpu_percent", profile.cpu_stat)
    if status != "running" or cpu is None or cpu[1] < MIN_SAMPLES:
        return OptimizationScore(savings_fit, "recommendations", None, savings_fit)
    used = cpu[0] / (100.0 - profile.cpu_headroom_percent)
    memory = _stat(metrics, "memory_percent", profile.memory_stat)
    if memory is not None and memory[1] >= MIN_SAMPLES:
        used = max(used, memory[0] / (100.0 - profile.memory_headroom_percent))
    fit = int(max(0, min(100, round(100 * used))))
    return OptimizationScore(min(fit, savings_fit), "utilisation", fit, savings_fit)
