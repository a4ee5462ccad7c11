"""Anomaly scan of the causal any-frequency detector (``detect_matrix``) on two shapes, with the vectorised
weekday baseline (``score_matrix``, no events, no change handling) timed on the same data as the baseline.

Targets (issue 16): 10,000 daily series × 365 days ≤ 30 s; 100 series × 30 days of 5-minute points
(8,640 points each) ≤ 60 s, on the 2-core development machine.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from benchmarks._support import report
from benchmarks.forecast_anomaly import synthetic
from cloudoptima.analytics.anomalies import config_for_step, detect_matrix
from cloudoptima.analytics.anomalies.baseline import score_matrix


def five_minute(n_series: int, days: int, seed: int) -> np.ndarray:  # type: ignore[type-arg]
    """Utilisation-like 5-minute series: daily cycle, noise, a spike and a step in every tenth series."""
    rng = np.random.default_rng(seed)
    points = days * 288
    t = np.arange(points)
    level = rng.uniform(5, 80, size=(n_series, 1))
    daily = level * rng.uniform(0, 0.5, size=(n_series, 1)) * np.sin(2 * np.pi * t / 288)
    values = level + daily + rng.normal(0, 0.05, size=(n_series, points)) * level
    values[::10, points // 2] += 10 * level[::10, 0]
    values[5::10, 2 * points // 3 :] += level[5::10]
    return np.maximum(values, 0.0)


def _timed(fn: object) -> float:
    started = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--daily-series", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--minute-series", type=int, default=100)
    parser.add_argument("--minute-days", type=int, default=30)
    args = parser.parse_args()

    daily = synthetic(args.daily_series, args.days, 2)
    daily_cfg = config_for_step(pd.Timedelta(days=1))
    daily_s = _timed(lambda: detect_matrix(daily, daily_cfg))
    daily_base_s = _timed(lambda: score_matrix(daily))
    daily_alerts = int((detect_matrix(daily[:1000], daily_cfg).alert > 0).sum())

    minute = five_minute(args.minute_series, args.minute_days, 3)
    minute_cfg = config_for_step(pd.Timedelta(minutes=5))
    minute_result = detect_matrix(minute, minute_cfg)
    minute_s = _timed(lambda: detect_matrix(minute, minute_cfg))
    minute_base_s = _timed(lambda: score_matrix(minute, m=288, weeks=4, residual_span=288))
    minute_alerts = int((minute_result.alert > 0).sum())

    report(
        "anomaly_scan",
        [
            (
                f"detect_matrix, {args.daily_series} daily series × {args.days} d (target ≤ 30 s)",
                f"{daily_s:.2f} s",
            ),
            ("  score_matrix on the same data (baseline)", f"{daily_base_s:.2f} s"),
            ("  alerts in the first 1,000 series", str(daily_alerts)),
            (
                f"detect_matrix, {args.minute_series} series × {args.minute_days} d of 5-min points (target ≤ 60 s)",
                f"{minute_s:.2f} s",
            ),
            ("  score_matrix on the same data (baseline)", f"{minute_base_s:.2f} s"),
            ("  alerts (one spike in every 10th series, a step in every 10th)", str(minute_alerts)),
        ],
        {
            "daily_series": args.daily_series,
            "days": args.days,
            "daily_seconds": round(daily_s, 3),
            "daily_baseline_seconds": round(daily_base_s, 3),
            "daily_vs_baseline_ratio": round(daily_s / daily_base_s, 2),
            "minute_series": args.minute_series,
            "minute_points": int(minute.shape[1]),
            "minute_seconds": round(minute_s, 3),
            "minute_baseline_seconds": round(minute_base_s, 3),
            "minute_vs_baseline_ratio": round(minute_s / minute_base_s, 2),
            "minute_alerts": minute_alerts,
            "targets": {"daily_seconds": "<= 30", "minute_seconds": "<= 60"},
        },
    )


if __name__ == "__main__":
    main()
