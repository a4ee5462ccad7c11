"""Run every evaluation and check the floors.

Contract: ``run_all(seeds, shapes, forecast_folds, include_prophet)`` generates each (seed, shape) estate and
runs the product's own engines on it — ``detect_incidents`` over the daily cost table, then
``generate_recommendations`` over the live inventory, its utilisation summaries and the sandbox price
catalogue with the anomalies' scopes (exactly what ``RecommendationService`` does) — and
``forecast_costs`` (model ``auto``) on rolling origins of the daily totals and of the real Prophet example
series, and the NAB standard-profile score of the anomaly detector and of windowed-Gaussian baselines on the
NAB dev split (``cloudoptima_evals/nab.py``). It returns a JSON-serialisable dict: per case and aggregate metrics, the floors, the failures
(empty when every floor holds) and the elapsed seconds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pandas as pd

from cloudoptima.analytics.anomalies import AnomalyConfig
from cloudoptima.analytics.forecasting import forecast_costs
from cloudoptima.analytics.recommendations import generate_recommendations, scopes_from_anomalies
from cloudoptima.services.anomalies import detect_incidents
from cloudoptima.services.pricing import SandboxPriceCatalog
from cloudoptima_evals.datasets import (
    DEFAULT_SEEDS,
    NAB_DEV,
    EstateData,
    cases,
    daily_totals,
    load_case,
    prophet_series,
)
from cloudoptima_evals.nab import run_nab
from cloudoptima_evals.scorers import (
    AnomalyScore,
    ForecastScore,
    RecommendationScore,
    add_fold,
    score_anomalies,
    score_recommendations,
)

FLOORS: dict[str, tuple[str, float]] = {
    "recommendations.precision": (">=", 0.9),
    "recommendations.recall": (">=", 0.9),
    "recommendations.critical_false_positives": ("==", 0.0),
    "anomalies.root_cause_top1": (">=", 0.85),
    "anomalies.precision": (">=", 0.9),
    "anomalies.recall": (">=", 0.95),
    "forecast.sandbox.mase": ("<", 1.0),
    "forecast.sandbox.smape_vs_snaive": ("<", 1.0),
    "forecast.sandbox.coverage_95": (">=", 0.75),
    "nab.score": (">=", 65.0),
    "nab.over_best_baseline": (">=", 1.2),
}
DETECTOR_WARMUP_DAYS = AnomalyConfig().warmup_days
"""The anomaly detector judges a day once this many days of history precede it."""
HORIZON = 28


def _rec_dict(score: RecommendationScore) -> dict[str, Any]:
    return {
        "precision": round(score.precision, 4),
        "recall": round(score.recall, 4),
        "true_positives": score.true_positives,
        "false_positives": score.false_positives,
        "false_negatives": score.false_negatives,
        "critical_false_positives": len(score.critical_false_positives),
        "critical_details": score.critical_false_positives,
        "savings_mape_percent": round(score.savings_mape, 3),
        "missed": score.missed,
        "spurious": score.spurious,
    }


def _anomaly_dict(score: AnomalyScore) -> dict[str, Any]:
    return {
        "precision": round(score.precision, 4),
        "recall": round(score.recall, 4),
        "recall_detectable": round(score.recall_detectable, 4),
        "root_cause_top1": round(score.top1_accuracy, 4),
        "root_cause_top3": round(score.top3_accuracy, 4),
        "incidents": score.incidents,
        "expected_incidents": score.expected_incidents,
        "planted": score.planted,
        "detected": score.detected,
    }


def _forecast_dict(score: ForecastScore) -> dict[str, Any]:
    return {
        "mase": round(score.mase, 4),
        "smape": round(score.smape, 3),
        "smape_snaive": round(score.smape_naive, 3),
        "smape_vs_snaive": round(score.smape / score.smape_naive, 4) if score.smape_naive else float("nan"),
        "coverage_95": round(score.coverage, 4),
        "points": score.points,
        "models": sorted(set(score.models)),
    }


def forecast_series_score(series: pd.Series, folds: int, horizon: int = HORIZON) -> ForecastScore:
    """Rolling-origin holdout of the product forecaster vs seasonal naive on one daily series."""
    score = ForecastScore()
    for k in range(folds, 0, -1):
        origin = len(series) - k * horizon
        history = list(zip(series.index[:origin].date, series.to_numpy()[:origin], strict=True))
        actual = [float(v) for v in series.to_numpy()[origin : origin + horizon]]
        model = forecast_costs(history, days_ahead=horizon, confidence_level=0.95, model="auto")
        naive = forecast_costs(history, days_ahead=horizon, confidence_level=0.95, model="snaive")
        add_fold(
            score,
            actual,
            [p.predicted for p in model.points],
            [p.lower for p in model.points],
            [p.upper for p in model.points],
            [p.predicted for p in naive.points],
        )
        score.models.append(model.model)
    return score


def evaluate_case(data: EstateData, forecast_folds: int) -> dict[str, Any]:
    """Recommendation, anomaly and forecast scores of one estate (raw score objects under ``_scores``)."""
    incidents = detect_incidents(data.daily_costs)
    recommendations = generate_recommendations(
        data.resources,
        data.utilisation,
        SandboxPriceCatalog(),
        as_of=data.as_of,
        anomaly_scopes=scopes_from_anomalies(incidents),
    )
    rec = score_recommendations(recommendations, data.estate.manifest, data.utilisation)
    warmup = data.estate.spec.start + timedelta(days=DETECTOR_WARMUP_DAYS)
    anomalies = score_anomalies(incidents, data.estate.manifest.anomalies, warmup, data.expected)
    forecast = forecast_series_score(daily_totals(data), forecast_folds)
    return {"_scores": (rec, anomalies, forecast)}


def check_floors(results: dict[str, Any]) -> list[str]:
    """The floors that do not hold, as readable strings (empty when all hold)."""
    failures = []
    for path, (op, bound) in FLOORS.items():
        section, *rest = path.split(".")
        value: Any = results[section]["aggregate"] if section != "forecast" else results["forecast"]
        for key in rest:
            value = value[key]
        ok = {">=": value >= bound, "==": value == bound, "<": value < bound}[op]
        if not ok:
            failures.append(f"{path} = {value} (floor {op} {bound})")
    return failures


def run_all(
    seeds: Sequence[int] = DEFAULT_SEEDS,
    shapes: dict[str, tuple[int, int]] | None = None,
    *,
    forecast_folds: int = 3,
    include_prophet: bool = True,
) -> dict[str, Any]:
    """Every evaluation over every (seed, shape), with floors (see module contract)."""
    logging.getLogger("cmdstanpy").setLevel(logging.ERROR)
    logging.getLogger("prophet").setLevel(logging.ERROR)
    started = time.perf_counter()
    rec_total, anomaly_total, forecast_total = RecommendationScore(), AnomalyScore(), ForecastScore()
    per_case: dict[str, dict[str, Any]] = {}
    for case in cases(seeds, shapes):
        rec, anomalies, forecast = evaluate_case(load_case(case), forecast_folds)["_scores"]
        rec_total, anomaly_total = rec_total.merge(rec), anomaly_total.merge(anomalies)
        forecast_total = forecast_total.merge(forecast)
        per_case[case.name] = {
            "recommendations": _rec_dict(rec),
            "anomalies": _anomaly_dict(anomalies),
            "forecast": _forecast_dict(forecast),
        }
    results: dict[str, Any] = {
        "cases": per_case,
        "recommendations": {"aggregate": _rec_dict(rec_total)},
        "anomalies": {"aggregate": _anomaly_dict(anomaly_total)},
        "forecast": {"sandbox": _forecast_dict(forecast_total)},
    }
    results["nab"] = run_nab(NAB_DEV)
    if include_prophet:
        results["forecast"]["prophet_example"] = _forecast_dict(forecast_series_score(prophet_series(), 3))
    results["floors"] = {path: f"{op} {bound}" for path, (op, bound) in FLOORS.items()}
    results["failures"] = check_floors(results)
    results["elapsed_s"] = round(time.perf_counter() - started, 2)
    return results
