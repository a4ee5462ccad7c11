"""Cost anomaly detection over a long table of daily cost rows, with root cause and deduplication.

Contract (``detect_cost_anomalies``):
- Input: a pandas DataFrame or pyarrow Table with a date column, a cost column and dimension columns
  (default ``service, account, region, usage_type``; ``resource_id`` and tag columns — named ``tag:*``,
  ``tag_*`` or ``tags.*`` — are used for drill-down when present). A day without rows costs 0.
- Every series of every level (default: total, account, service, region, usage type) is scored at once by
  the causal detector of :mod:`~cloudoptima.analytics.anomalies.stream` (the same one that serves any
  series and utilisation metrics; weekly season, daily step, ``warmup_days`` of history, noise relative to
  spend and at least ``rel_floor`` of it). A day is
  anomalous when ``z ≥ threshold`` in the monitored direction and its daily impact is at least
  ``min_daily_impact`` dollars and ``min_daily_impact_pct`` percent; consecutive anomalous days are one event.
  An event that starts a lasting change of level (a launch, a new fleet) is reported once as
  ``kind="change"`` from its first day; the days after it are judged against the new level.
- An event on a series' first scoreable day (baseline + residual warm-up) starts on the first earlier day
  whose deviation already exceeds the threshold under the first noise scale: a change that began during
  the warm-up is reported from when it began, not as new on the day the detector could first see it.
- Materiality: an event is kept only when its peak daily impact is at least ``min_account_share`` of the
  expected daily spend of the account its top root cause belongs to (the account series' baseline over
  the event's days; the total's when no account level is monitored). A usage type that doubles from $3
  to $6 a day is a real change but not an anomaly worth an alert in a $900-a-day account; AWS Cost
  Anomaly Detection likewise judges impact against the monitored account's spend.
- Events of different levels that overlap in time are one incident when each event's top root-cause cell
  lies inside the other's scope (a total spike explained by one service in one account is ONE incident).
  The incident is reported on the event with the highest score; the others are ``related_scopes``.
- Impact is ``actual − expected`` over the incident's days (``impact_pct`` ``None`` when expected is 0);
  root causes and per-dimension contributions add up exactly to the impact (see ``root_cause``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from cloudoptima.analytics.anomalies.events import Event, SeverityThresholds, find_events, severity
from cloudoptima.analytics.anomalies.root_cause import (
    NONE_VALUE,
    Cell,
    allocate_cents,
    contributions,
    group_cells,
    ranked,
)
from cloudoptima.analytics.anomalies.stream import CHANGE, Direction, config_for_step, detect_matrix
from cloudoptima.domain.analytics import CostAnomaly, DimensionContribution, RootCause, to_money

DEFAULT_LEVELS: tuple[tuple[str, ...], ...] = ((), ("account",), ("service",), ("region",), ("usage_type",))
ROOT_CAUSE_DIMENSIONS = ("service", "account", "region", "usage_type")
DETAIL_DIMENSIONS = ("resource_id",)
TAG_PREFIXES = ("tag:", "tag_", "tags.")
BASELINE_DAYS = 14
"""Days before an incident that root-cause contributions compare against."""


@dataclass(frozen=True)
class AnomalyConfig:
    """Detection knobs; the defaults suit daily cloud cost."""

    threshold: float = 5.0
    """Robust z-score at which a day is anomalous (score 0.5)."""
    direction: Direction = "up"
    """``up`` reports cost increases only, as AWS Cost Anomaly Detection does."""
    warmup_days: int = 28
    """Days of history before a day can be judged."""
    rel_floor: float = 0.02
    """The noise scale is at least this share of the expected daily cost (a 2 % wobble is never news)."""
    min_daily_impact: float = 1.0
    min_daily_impact_pct: float = 0.0
    max_gap: int = 1
    min_account_share: float = 0.03
    """An event's peak daily impact must reach this share of its account's expected daily spend."""
    top_k: int = 5
    evaluate_from: date | None = None
    """Only report incidents starting on or after this day (default: every day with a baseline)."""
    severity: SeverityThresholds = field(default_factory=SeverityThresholds)


@dataclass(frozen=True)
class _Scored:
    event: Event
    scope: dict[str, str]
    actual: float
    expected: float
    max_daily_impact: float
    score: float
    cells: list[Cell]
    top: dict[str, str]
    change: bool


def _frame(rows: Any, date_col: str, cost_col: str, dims: Sequence[str]) -> pd.DataFrame:
    frame = rows.to_pandas() if hasattr(rows, "to_pandas") and not isinstance(rows, pd.DataFrame) else rows
    missing = [c for c in (date_col, cost_col, *dims) if c not in frame.columns]
    if missing:
        raise ValueError(f"cost rows lack column(s): {', '.join(missing)}")
    out = pd.DataFrame(
        {"date": pd.to_datetime(frame[date_col], utc=True).dt.tz_localize(None).dt.normalize()}
    )
    out["cost"] = pd.to_numeric(frame[cost_col].map(float), errors="raise").astype(np.float64)
    for dim in dims:
        out[dim] = frame[dim].astype(object).where(frame[dim].notna(), NONE_VALUE).astype(str)
    return out


def _series(
    frame: pd.DataFrame, levels: Sequence[tuple[str, ...]], grid: pd.DatetimeIndex
) -> tuple[np.ndarray[Any, np.dtype[np.float64]], list[dict[str, str]]]:
    blocks: list[np.ndarray[Any, np.dtype[np.float64]]] = []
    scopes: list[dict[str, str]] = []
    for level in levels:
        if not level:
            total = frame.groupby("date")["cost"].sum().reindex(grid, fill_value=0.0)
            blocks.append(total.to_numpy(dtype=np.float64)[None, :])
            scopes.append({})
            continue
        table = frame.groupby([*level, "date"])["cost"].sum().unstack("date", fill_value=0.0)
        table = table.reindex(columns=grid, fill_value=0.0)
        blocks.append(table.to_numpy(dtype=np.float64))
        for key in table.index:
            values = key if isinstance(key, tuple) else (key,)
            scopes.append(dict(zip(level, (str(v) for v in values), strict=True)))
    return np.concatenate(blocks, axis=0), scopes


def _inside(cell: dict[str, str], scope: dict[str, str]) -> bool:
    return all(cell.get(k) == v for k, v in scope.items())


def _incidents(events: list[_Scored]) -> list[list[_Scored]]:
    parent = list(range(len(events)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, a in enumerate(events):
        for j in range(i + 1, len(events)):
            b = events[j]
            overlap = a.event.first <= b.event.last and b.event.first <= a.event.last
            if overlap and _inside(a.top, b.scope) and _inside(b.top, a.scope):
                parent[find(i)] = find(j)
    groups: dict[int, list[_Scored]] = {}
    for i, ev in enumerate(events):
        groups.setdefault(find(i), []).append(ev)
    return list(groups.values())


def _anomaly(
    group: list[_Scored], grid: pd.DatetimeIndex, dims: list[str], cfg: AnomalyConfig
) -> CostAnomaly:
    rep = max(group, key=lambda e: (e.score, len(e.scope), -e.event.first))
    actual, expected = to_money(rep.actual), to_money(rep.expected)
    impact = actual - expected
    pct = None if expected == 0 else float(impact / expected * 100)
    start, end = grid[rep.event.first].date(), grid[rep.event.last].date()
    rc_width = len(ROOT_CAUSE_DIMENSIONS)
    roots = ranked(group_cells(rep.cells, range(rc_width)), float(impact), cfg.top_k)
    root_money = allocate_cents([c.contribution for c in roots], impact)
    root_causes = [
        RootCause(
            dimensions=dict(zip(ROOT_CAUSE_DIMENSIONS, c.key, strict=True)),
            actual=to_money(c.actual),
            expected=to_money(c.expected),
            contribution=money,
        )
        for c, money in zip(roots, root_money, strict=True)
    ]
    per_dim: list[DimensionContribution] = []
    for pos, dim in enumerate(dims):
        top = ranked(group_cells(rep.cells, [pos]), float(impact), cfg.top_k)
        for c, money in zip(top, allocate_cents([c.contribution for c in top], impact), strict=True):
            per_dim.append(DimensionContribution(dimension=dim, value=c.key[0], contribution=money))
    ident = hashlib.sha1(repr((sorted(rep.scope.items()), start.isoformat())).encode(), usedforsecurity=False)
    return CostAnomaly(
        anomaly_id=ident.hexdigest()[:16],
        scope=rep.scope,
        related_scopes=[e.scope for e in group if e is not rep],
        start_date=start,
        end_date=end,
        actual_spend=actual,
        expected_spend=expected,
        impact=impact,
        impact_pct=pct,
        max_daily_impact=to_money(rep.max_daily_impact),
        score=rep.score,
        severity=severity(impact, pct, cfg.severity),
        root_causes=root_causes,
        contributions=per_dim,
        kind="change" if rep.change else "anomaly",
    )


def _backdated(
    ev: Event,
    first_scored: int,
    signed: np.ndarray[Any, np.dtype[np.float64]],
    sigma: np.ndarray[Any, np.dtype[np.float64]],
    threshold: float,
) -> Event:
    """An event on a series' first scoreable day starts where its deviation really began.

    Before that day the baseline exists but its noise scale does not yet; the first scale stands in for it.
    A change that began during the warm-up is dated from its first day instead of the day the detector
    could first see it (which would report a long-running change as new).
    """
    if ev.first != first_scored:
        return ev
    bound = threshold * sigma[ev.series, first_scored]
    first = ev.first
    while first > 0 and np.isfinite(signed[ev.series, first - 1]) and signed[ev.series, first - 1] >= bound:
        first -= 1
    return Event(series=ev.series, first=first, last=ev.last)


def _material(
    peak: float,
    expected: np.ndarray[Any, np.dtype[np.float64]],
    span: slice,
    row: int | None,
    cfg: AnomalyConfig,
) -> bool:
    """Whether a peak daily impact reaches ``min_account_share`` of the account's expected daily spend."""
    if row is None or cfg.min_account_share <= 0:
        return True
    with np.errstate(invalid="ignore"):
        baseline = float(np.nanmean(np.abs(expected[row, span])))
    return not np.isfinite(baseline) or peak >= cfg.min_account_share * baseline


def detect_cost_anomalies(
    rows: Any,
    *,
    date_col: str = "date",
    cost_col: str = "cost",
    levels: Sequence[tuple[str, ...]] = DEFAULT_LEVELS,
    detail_dimensions: Sequence[str] = DETAIL_DIMENSIONS,
    tag_columns: Sequence[str] | None = None,
    config: AnomalyConfig | None = None,
) -> list[CostAnomaly]:
    """Anomaly incidents in daily cost rows, newest last (see module contract)."""
    cfg = config or AnomalyConfig()
    columns = list(rows.column_names if hasattr(rows, "column_names") else rows.columns)
    tags = (
        list(tag_columns) if tag_columns is not None else [c for c in columns if c.startswith(TAG_PREFIXES)]
    )
    details = [d for d in detail_dimensions if d in columns] + tags
    level_dims = {d for level in levels for d in level}
    dims = list(dict.fromkeys([*ROOT_CAUSE_DIMENSIONS, *level_dims, *details]))
    frame = _frame(rows, date_col, cost_col, dims)
    if frame.empty:
        return []
    grid = pd.date_range(frame["date"].min(), frame["date"].max(), freq="D")
    values, scopes = _series(frame, levels, grid)
    stream = config_for_step(
        pd.Timedelta(days=1),
        threshold=cfg.threshold,
        direction=cfg.direction,
        warmup=cfg.warmup_days,
        rel_floor=cfg.rel_floor,
        relative_noise=True,
    )
    scores = detect_matrix(values, stream)
    impact = values - scores.expected
    signed = {"up": impact, "down": -impact, "both": np.abs(impact)}[cfg.direction]
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(scores.expected != 0, 100.0 * signed / np.abs(scores.expected), np.inf)
    flags = (scores.score >= 0.5) & (signed >= cfg.min_daily_impact) & (pct >= cfg.min_daily_impact_pct)
    if cfg.evaluate_from is not None:
        flags &= np.asarray(grid >= pd.Timestamp(cfg.evaluate_from))[None, :]
    width = BASELINE_DAYS
    account_rows = {scope["account"]: i for i, scope in enumerate(scopes) if list(scope) == ["account"]}
    total_row = next((i for i, scope in enumerate(scopes) if not scope), None)
    scored: list[_Scored] = []
    first_scored = np.maximum(np.argmax(np.isfinite(scores.z), axis=1), cfg.warmup_days)
    for found in find_events(flags, cfg.max_gap):
        ev = _backdated(found, int(first_scored[found.series]), signed, scores.sigma, cfg.threshold)
        scope = scopes[ev.series]
        mask = np.ones(len(frame), dtype=bool)
        for k, v in scope.items():
            mask &= (frame[k] == v).to_numpy()
        span = slice(ev.first, ev.last + 1)
        expected_total = float(scores.expected[ev.series, span].sum())
        cells = contributions(
            frame[mask], dims, grid[span], grid[max(0, ev.first - width) : ev.first], expected_total
        )
        actual_total = float(values[ev.series, span].sum())
        sign = 1.0 if actual_total >= expected_total else -1.0
        roots = group_cells(cells, range(len(ROOT_CAUSE_DIMENSIONS)))
        top_cell = max(roots, key=lambda c: sign * c.contribution)
        top = dict(zip(ROOT_CAUSE_DIMENSIONS, top_cell.key, strict=True))
        peak = float(np.max(signed[ev.series, span]))
        if not _material(peak, scores.expected, span, account_rows.get(top["account"], total_row), cfg):
            continue
        scored.append(
            _Scored(
                event=ev,
                scope=scope,
                actual=actual_total,
                expected=expected_total,
                max_daily_impact=float(np.max(impact[ev.series, span])),
                score=float(np.max(scores.score[ev.series, span])),
                cells=cells,
                top=top,
                change=bool(scores.alert[ev.series, found.first] == CHANGE),
            )
        )
    incidents = [_anomaly(group, grid, dims, cfg) for group in _incidents(scored)]
    return sorted(incidents, key=lambda a: (a.start_date, -abs(a.impact)))
