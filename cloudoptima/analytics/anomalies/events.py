"""Runs of anomalous points per series, and the severity rule.

Contract:
- ``find_events(flags, max_gap)`` turns an ``(S, T)`` boolean matrix into events ``(series, first, last)``
  (inclusive indices); runs of one series separated by at most ``max_gap`` unflagged points are one event.
- ``severity(impact, impact_pct, thresholds)`` grades an incident by the size of its impact in the
  anomalous direction: CRITICAL if |impact| ≥ 10,000 or (|impact| ≥ 1,000 and |pct| ≥ 100); HIGH if
  |impact| ≥ 1,000 or (|impact| ≥ 100 and |pct| ≥ 50); MEDIUM if |impact| ≥ 100 or (|impact| ≥ 10 and
  |pct| ≥ 20); else LOW. A missing percentage (expected spend 0) counts as 100 %.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from cloudoptima.analytics.forecasting.series import BoolArray
from cloudoptima.domain.analytics import AnomalySeverity


@dataclass(frozen=True)
class Event:
    """Consecutive anomalous points of one series (indices into the time grid, inclusive)."""

    series: int
    first: int
    last: int


def find_events(flags: BoolArray, max_gap: int = 1) -> list[Event]:
    """Group flagged points into events per series (see module contract)."""
    rows, cols = np.nonzero(flags)
    events: list[Event] = []
    if rows.size == 0:
        return events
    new = np.ones(rows.size, dtype=bool)
    new[1:] = (rows[1:] != rows[:-1]) | (cols[1:] - cols[:-1] > max_gap + 1)
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:] - 1, rows.size - 1)
    for s, e in zip(starts, ends, strict=True):
        events.append(Event(series=int(rows[s]), first=int(cols[s]), last=int(cols[e])))
    return events


@dataclass(frozen=True)
class SeverityThresholds:
    """Absolute ($) and relative (%) impact bounds of each severity (see module contract)."""

    critical_abs: float = 10_000.0
    critical_combo: tuple[float, float] = (1_000.0, 100.0)
    high_abs: float = 1_000.0
    high_combo: tuple[float, float] = (100.0, 50.0)
    medium_abs: float = 100.0
    medium_combo: tuple[float, float] = (10.0, 20.0)


def severity(
    impact: Decimal, impact_pct: float | None, thresholds: SeverityThresholds | None = None
) -> AnomalySeverity:
    """Severity of an incident from its impact and impact percentage."""
    t = thresholds or SeverityThresholds()
    size = abs(float(impact))
    pct = 100.0 if impact_pct is None else abs(impact_pct)

    def hit(absolute: float, combo: tuple[float, float]) -> bool:
        return size >= absolute or (size >= combo[0] and pct >= combo[1])

    if hit(t.critical_abs, t.critical_combo):
        return AnomalySeverity.CRITICAL
    if hit(t.high_abs, t.high_combo):
        return AnomalySeverity.HIGH
    if hit(t.medium_abs, t.medium_combo):
        return AnomalySeverity.MEDIUM
    return AnomalySeverity.LOW
