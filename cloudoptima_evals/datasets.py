"""Evaluation datasets: generated sandbox estates (several seeds × shapes) and the real Prophet example series.

Contract:
- ``cases(seeds, shapes)`` lists every (seed, shape); nothing is tuned to one seed — the default seeds are
  arbitrary and the runner accepts any.
- ``load_case(case)`` generates the estate and derives exactly what the product feeds its engines: the live
  inventory (resources not deleted), utilisation summaries made by the product's ``summarise_values`` from
  the hourly samples, and the daily cost table (one row per day × account × service × region × usage type,
  from the estate's FOCUS rows) — plus the ground-truth manifest.
- ``expected_changes(estate)`` labels what a FinOps analyst expects to see move the bill: every billing
  segment that starts (a launch, a resize, a restart) or ends (a decommission, a stop) inside the window
  and is not part of a planted anomaly, grouped per (account, UTC day), with the cost cells it touches.
  An alert on one of these is *planned activity* (AWS's feedback label), not a false alarm.
- ``prophet_series()`` is the Peyton Manning log page-views series shipped as package data
  (``cloudoptima_evals.data``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd

from cloudoptima.analytics.utilisation import summarise_values
from cloudoptima.clouds.sandbox import Estate, generate_estate, iter_cost_rows
from cloudoptima.clouds.sandbox.billing import FOCUS_COLUMNS
from cloudoptima.clouds.sandbox.utilisation import resource_arrays
from cloudoptima.domain.inventory import Resource
from cloudoptima_evals.data import nab_dev, prophet_csv

DEFAULT_SEEDS: tuple[int, ...] = (11, 2024, 90210)
DEFAULT_SHAPES: dict[str, tuple[int, int]] = {
    "3x180d": (3, 180),
    "6x120d": (6, 120),
}
"""Shape name → (accounts, days of history)."""
END = date(2026, 1, 1)
PROPHET_CSV = prophet_csv()
"""The Prophet example series, shipped as package data (``cloudoptima_evals/data/prophet``)."""

NAB_DEV = nab_dev()
"""28 labelled NAB series (numenta/NAB, MIT) and their windows: the public anomaly dev benchmark."""

_COL = {name: i for i, name in enumerate(FOCUS_COLUMNS)}


@dataclass(frozen=True)
class EstateCase:
    """One generated estate to evaluate on."""

    seed: int
    shape: str
    accounts: int
    days: int

    @property
    def name(self) -> str:
        return f"seed{self.seed}-{self.shape}"


@dataclass(frozen=True)
class ExpectedChange:
    """Planned activity on one day of one account and the cost cells (account, service, region, usage type)."""

    day: date
    account: str
    cells: frozenset[tuple[str, str, str, str]]


@dataclass(frozen=True)
class EstateData:
    """What the product's engines see for one case, plus the estate (and its manifest) for scoring."""

    case: EstateCase
    estate: Estate
    as_of: datetime
    resources: tuple[Resource, ...]
    utilisation: dict[str, dict[str, dict[str, float]]]
    daily_costs: pd.DataFrame
    expected: tuple[ExpectedChange, ...] = ()


def cases(
    seeds: Sequence[int] = DEFAULT_SEEDS, shapes: dict[str, tuple[int, int]] | None = None
) -> list[EstateCase]:
    """Every (seed, shape) combination, seeds outermost."""
    chosen = shapes or DEFAULT_SHAPES
    return [EstateCase(seed, name, a, d) for seed in seeds for name, (a, d) in chosen.items()]


def _summaries(estate: Estate) -> dict[str, dict[str, dict[str, float]]]:
    out: dict[str, dict[str, dict[str, float]]] = {}
    for resource in estate.resources:
        metrics = {}
        for metric, values in resource_arrays(estate, resource).items():
            present = values[~np.isnan(values)]
            if present.size:
                metrics[str(metric)] = summarise_values(present)
        if metrics:
            out[resource.resource_id] = metrics
    return out


def _daily_costs(estate: Estate) -> pd.DataFrame:
    keep = ("ChargePeriodStart", "BilledCost", "ServiceName", "SubAccountId", "RegionId", "SkuMeter")
    rows = [
        tuple(row[_COL[c]] for c in keep)
        for account in estate.accounts
        for row in iter_cost_rows(estate, account.account_id)
    ]
    frame = pd.DataFrame(rows, columns=["date", "cost", "service", "account", "region", "usage_type"])
    frame["date"] = pd.to_datetime(frame["date"].str[:10])
    frame["cost"] = frame["cost"].astype(float)
    grouped = frame.groupby(["date", "account", "service", "region", "usage_type"], as_index=False)[
        "cost"
    ].sum()
    return grouped


def expected_changes(estate: Estate) -> tuple[ExpectedChange, ...]:
    """Launches, resizes, stops and decommissions inside the window (see module contract)."""
    planted = {rid for a in estate.manifest.anomalies for rid in a.root_cause.resource_ids}
    first, last = estate.spec.start + timedelta(days=1), estate.spec.end
    by_day: dict[tuple[date, str], set[tuple[str, str, str, str]]] = {}
    resources = {r.resource_id: r for r in estate.resources}
    for resource_id, segments in estate.segments.items():
        resource = resources.get(resource_id)
        if resource is None or resource_id in planted:
            continue
        for segment in segments:
            for moment in (segment.start, segment.end):
                if moment is None or not first <= moment.date() < last:
                    continue
                cell = (resource.account_id, resource.service_name, resource.region, segment.usage_type)
                by_day.setdefault((moment.date(), resource.account_id), set()).add(cell)
    return tuple(
        ExpectedChange(day=day, account=account, cells=frozenset(cells))
        for (day, account), cells in sorted(by_day.items())
    )


def load_case(case: EstateCase) -> EstateData:
    """Generate the estate of ``case`` and derive the engines' inputs (see module contract)."""
    estate = generate_estate(seed=case.seed, accounts=case.accounts, days=case.days, end=END)
    as_of = datetime(END.year, END.month, END.day, tzinfo=UTC)
    live = tuple(r for r in estate.resources if r.deleted_at is None)
    return EstateData(
        case=case,
        estate=estate,
        as_of=as_of,
        resources=live,
        utilisation=_summaries(estate),
        daily_costs=_daily_costs(estate),
        expected=expected_changes(estate),
    )


def prophet_series() -> pd.Series:
    """The real daily series of the Prophet example (log page views), indexed by date."""
    frame = pd.read_csv(PROPHET_CSV)
    series = pd.Series(frame["y"].to_numpy(dtype=float), index=pd.to_datetime(frame["ds"]))
    return series.sort_index()


def daily_totals(data: EstateData) -> pd.Series:
    """The estate's total cost per day (what budgets and the overview forecast)."""
    totals = data.daily_costs.groupby("date")["cost"].sum()
    grid = pd.date_range(totals.index.min(), data.as_of.date() - timedelta(days=1), freq="D")
    return totals.reindex(grid, fill_value=0.0)
