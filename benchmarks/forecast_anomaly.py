"""Forecast 1,000 daily series × 365 days with the fast model (and time Prophet per series); anomaly-scan
10,000 daily series. Baselines in the same run: seasonal naive for forecasting (the cheapest sane model).

Targets (issue 5): fast forecast of 1,000 series ≤ 120 s on 2 cores; anomaly scan of 10k series ≤ 30 s.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from benchmarks._support import report
from cloudoptima.analytics.anomalies.baseline import score_matrix
from cloudoptima.analytics.forecasting import forecast_matrix


def synthetic(n_series: int, days: int, seed: int) -> np.ndarray:  # type: ignore[type-arg]
    rng = np.random.default_rng(seed)
    t = np.arange(days)
    level = rng.uniform(10, 1000, size=(n_series, 1))
    trend = rng.normal(0, 0.002, size=(n_series, 1)) * level * t
    weekly = level * rng.uniform(0, 0.3, size=(n_series, 1)) * (np.isin(t % 7, (5, 6)) * -1.0)
    noise = rng.normal(0, 0.05, size=(n_series, days)) * level
    return np.maximum(level + trend + weekly + noise, 0.0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--series", type=int, default=1000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--horizon", type=int, default=30)
    parser.add_argument("--scan-series", type=int, default=10_000)
    parser.add_argument("--prophet-series", type=int, default=5)
    args = parser.parse_args()
    index = pd.date_range("2030-01-01", periods=args.days, freq="D")
    values = synthetic(args.series, args.days, 1)

    started = time.perf_counter()
    forecast_matrix(values, index, "D", args.horizon, model="snaive", run_backtest=False)
    snaive_s = time.perf_counter() - started
    started = time.perf_counter()
    forecast_matrix(values, index, "D", args.horizon, model="fast", run_backtest=False)
    fast_s = time.perf_counter() - started
    started = time.perf_counter()
    forecast_matrix(values, index, "D", args.horizon, model="damped", run_backtest=False)
    damped_s = time.perf_counter() - started
    started = time.perf_counter()
    auto = forecast_matrix(values, index, "D", args.horizon, model="auto", prophet_max_series=0)
    auto_s = time.perf_counter() - started
    started = time.perf_counter()
    forecast_matrix(
        values[: args.prophet_series], index, "D", args.horizon, model="prophet", run_backtest=False
    )
    prophet_per_series = (time.perf_counter() - started) / args.prophet_series

    scan = synthetic(args.scan_series, args.days, 2)
    started = time.perf_counter()
    scores = score_matrix(scan)
    scan_s = time.perf_counter() - started
    flagged = int(np.nansum(np.abs(scores.z) >= 4.0))

    chosen = {name: auto.chosen.count(name) for name in set(auto.chosen)}
    report(
        "forecast_anomaly",
        [
            (f"seasonal naive, {args.series} series", f"{snaive_s:.2f} s"),
            (
                f"fast (Holt-Winters + seasonal level), {args.series} series (target ≤ 120 s)",
                f"{fast_s:.2f} s",
            ),
            (f"damped trend (deseasonalised ETS), {args.series} series", f"{damped_s:.2f} s"),
            (f"auto with backtests, {args.series} series (target ≤ 120 s)", f"{auto_s:.2f} s"),
            ("auto chose", ", ".join(f"{k}: {v}" for k, v in sorted(chosen.items()))),
            ("Prophet per series", f"{prophet_per_series:.2f} s"),
            (f"anomaly scan, {args.scan_series} series (target ≤ 30 s)", f"{scan_s:.2f} s"),
        ],
        {
            "series": args.series,
            "days": args.days,
            "horizon": args.horizon,
            "snaive_seconds": round(snaive_s, 3),
            "damped_seconds": round(damped_s, 3),
            "fast_seconds": round(fast_s, 3),
            "fast_vs_snaive_ratio": round(fast_s / snaive_s, 1),
            "auto_seconds": round(auto_s, 3),
            "auto_chosen": chosen,
            "prophet_seconds_per_series": round(prophet_per_series, 3),
            "scan_series": args.scan_series,
            "scan_seconds": round(scan_s, 3),
            "scan_flagged_points": flagged,
            "targets": {"fast_seconds": "<= 120", "scan_seconds": "<= 30"},
        },
    )


if __name__ == "__main__":
    main()
