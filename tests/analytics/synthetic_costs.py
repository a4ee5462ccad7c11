"""Deterministic synthetic cost estates for anomaly tests: weekday patterns, trend, noise, planted events."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

ACCOUNTS = ("111111111111", "222222222222", "333333333333")
SERVICES = ("AmazonEC2", "AmazonS3", "AmazonRDS", "AWSLambda", "AmazonCloudFront")
REGIONS = ("us-east-1", "eu-west-1")
WEEKDAY_HEAVY = {"AmazonEC2", "AWSLambda"}
START = pd.Timestamp("2024-01-01")


@dataclass(frozen=True)
class Planted:
    """An event planted in one cell: ``spike`` (one day) or ``shift`` (from ``day`` to the end)."""

    kind: str
    day: int
    cell: dict[str, str]
    amount: float


def cost_estate(
    seed: int,
    days: int = 120,
    n_spikes: int = 2,
    n_shifts: int = 1,
    weekday_pattern: bool = True,
) -> tuple[pd.DataFrame, list[Planted]]:
    """Daily cost rows for 60 cells (3 accounts × 5 services × 2 regions × 2 usage types) + planted events."""
    rng = np.random.default_rng(seed)
    cells = [
        {"account": a, "service": s, "region": r, "usage_type": f"{s}:{u}"}
        for a in ACCOUNTS
        for s in SERVICES
        for r in REGIONS
        for u in ("Usage", "Storage")
    ]
    t = np.arange(days)
    weekday = (START + pd.to_timedelta(t, unit="D")).day_of_week.to_numpy()
    matrix = np.empty((len(cells), days))
    for i, cell in enumerate(cells):
        base = rng.lognormal(mean=3.0, sigma=0.8)
        trend = 1.0 + rng.uniform(-0.001, 0.003) * t
        pattern = (
            np.where(weekday >= 5, 0.45, 1.0) if weekday_pattern and cell["service"] in WEEKDAY_HEAVY else 1.0
        )
        matrix[i] = base * trend * pattern * rng.lognormal(0.0, 0.05, days)
    planted: list[Planted] = []
    event_days = rng.choice(np.arange(70, days - 5, 8), size=n_spikes + n_shifts, replace=False)
    chosen = rng.choice(len(cells), size=n_spikes + n_shifts, replace=False)
    for k, (day, idx) in enumerate(zip(event_days, chosen, strict=True)):
        level = float(np.median(matrix[idx, day - 14 : day]))
        if k < n_spikes:
            amount = level * rng.uniform(1.5, 3.0) + 40.0
            matrix[idx, day] += amount
            planted.append(Planted("spike", int(day), cells[idx], amount))
        else:
            amount = level * rng.uniform(0.8, 1.5) + 30.0
            matrix[idx, day:] += amount
            planted.append(Planted("shift", int(day), cells[idx], amount))
    frames = []
    for i, cell in enumerate(cells):
        frames.append(
            pd.DataFrame(
                {
                    "date": (START + pd.to_timedelta(t, unit="D")).date,
                    "cost": np.round(matrix[i], 4),
                    **{k: v for k, v in cell.items()},
                    "resource_id": f"res-{i:03d}",
                    "tag:team": "blue" if i % 2 else "red",
                }
            )
        )
    return pd.concat(frames, ignore_index=True), planted
