"""Contribution analysis: which dimension values explain an anomaly's dollar impact.

Contract:
- ``contributions(rows, dims, event_days, baseline_days, expected_total)``: for every cell (unique combination
  of ``dims``) in the rows of one monitored series, ``expected_cell = expected_total × share`` where
  ``share`` is the cell's share of the series' cost over ``baseline_days`` (cells new since the baseline have
  share 0; with an all-zero baseline the shares follow the actual cost), and
  ``contribution = actual_cell − expected_cell``. The contributions therefore add up to
  ``Σ actual − expected_total``, the anomaly's impact, and any coarser grouping of cells is exact too.
- ``allocate_cents(values, total)`` rounds amounts to cents so that they add up exactly to ``total``
  (largest-remainder method); ``ranked(...)`` keeps the ``top_k`` largest contributions in the direction of
  the impact and lumps the rest into one ``(other)`` entry, preserving the sum.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd

OTHER = "(other)"
NONE_VALUE = "(none)"


@dataclass(frozen=True)
class Cell:
    """One combination of dimension values and its amounts over the anomaly's days."""

    key: tuple[str, ...]
    actual: float
    expected: float

    @property
    def contribution(self) -> float:
        """``actual − expected`` of this cell."""
        return self.actual - self.expected


def contributions(
    rows: pd.DataFrame,
    dims: Sequence[str],
    event_days: pd.DatetimeIndex,
    baseline_days: pd.DatetimeIndex,
    expected_total: float,
    *,
    date_col: str = "date",
    cost_col: str = "cost",
) -> list[Cell]:
    """Cells of ``rows`` at the ``dims`` grain with actual and expected cost (see module contract)."""
    in_event = rows[rows[date_col].isin(event_days)]
    in_base = rows[rows[date_col].isin(baseline_days)]
    actual = in_event.groupby(list(dims), sort=True)[cost_col].sum()
    base = in_base.groupby(list(dims), sort=True)[cost_col].sum()
    keys = actual.index.union(base.index)
    actual = actual.reindex(keys, fill_value=0.0)
    base = base.reindex(keys, fill_value=0.0)
    base_total = float(base.sum())
    if base_total != 0:
        share = base / base_total
    elif float(actual.sum()) != 0:
        share = actual / float(actual.sum())
    else:
        share = pd.Series(1.0 / max(len(keys), 1), index=keys)
    cells = []
    for key, act, sh in zip(keys, actual.to_numpy(), share.to_numpy(), strict=True):
        tup = tuple(str(k) for k in (key if isinstance(key, tuple) else (key,)))
        cells.append(Cell(key=tup, actual=float(act), expected=float(sh) * expected_total))
    return cells


def group_cells(cells: Sequence[Cell], positions: Sequence[int]) -> list[Cell]:
    """Sum cells over all dimensions except those at ``positions`` (contributions stay additive)."""
    sums: dict[tuple[str, ...], list[float]] = {}
    for cell in cells:
        key = tuple(cell.key[p] for p in positions)
        acc = sums.setdefault(key, [0.0, 0.0])
        acc[0] += cell.actual
        acc[1] += cell.expected
    return [Cell(key=k, actual=v[0], expected=v[1]) for k, v in sums.items()]


def ranked(cells: Sequence[Cell], impact: float, top_k: int) -> list[Cell]:
    """Top ``top_k`` cells by contribution in the impact's direction, then one ``(other)`` cell if needed."""
    sign = 1.0 if impact >= 0 else -1.0
    order = sorted(cells, key=lambda c: (-sign * c.contribution, c.key))
    head, tail = order[:top_k], order[top_k:]
    if tail:
        width = len(head[0].key) if head else 1
        rest = Cell(
            key=(OTHER,) * width,
            actual=sum(c.actual for c in tail),
            expected=sum(c.expected for c in tail),
        )
        head.append(rest)
    return head


def allocate_cents(values: Sequence[float], total: Decimal) -> list[Decimal]:
    """Cent amounts close to ``values`` whose sum is exactly ``total`` (largest remainder)."""
    if not values:
        return []
    target = int((total * 100).to_integral_value())
    scaled = np.asarray(values, dtype=np.float64) * 100.0
    base = np.floor(scaled).astype(np.int64)
    fraction = scaled - base
    residual = target - int(base.sum())
    order = np.argsort(-fraction, kind="stable")
    n = len(values)
    steps, extra = divmod(abs(residual), n) if residual else (0, 0)
    adjust = np.full(n, steps, dtype=np.int64)
    picks = order[:extra] if residual > 0 else order[::-1][:extra]
    adjust[picks] += 1
    base = base + (adjust if residual > 0 else -adjust)
    return [Decimal(int(c)).scaleb(-2) for c in base]
