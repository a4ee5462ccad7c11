"""Cost anomaly detection with root cause: weekday/trend-aware robust scores, vectorised across series.

Public API:
- :func:`detect_cost_anomalies` — long table of daily cost rows → deduplicated ``CostAnomaly`` incidents
  with impact, severity and contribution analysis.
- :func:`score_matrix` — expected value, sigma and score of every point of an ``(S, T)`` matrix.
- :func:`detect_anomalies_csv` — the ``cloudoptima anomalies --csv`` behaviour.
Pure computation: no database, no network.
"""

from cloudoptima.analytics.anomalies.baseline import ScoreMatrix, score_matrix
from cloudoptima.analytics.anomalies.csv_io import AnomalyCsvResult, detect_anomalies_csv
from cloudoptima.analytics.anomalies.detector import (
    DEFAULT_LEVELS,
    ROOT_CAUSE_DIMENSIONS,
    AnomalyConfig,
    detect_cost_anomalies,
)
from cloudoptima.analytics.anomalies.events import SeverityThresholds, severity

__all__ = [
    "DEFAULT_LEVELS",
    "ROOT_CAUSE_DIMENSIONS",
    "AnomalyConfig",
    "AnomalyCsvResult",
    "ScoreMatrix",
    "SeverityThresholds",
    "detect_anomalies_csv",
    "detect_cost_anomalies",
    "score_matrix",
    "severity",
]
