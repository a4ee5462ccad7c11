"""Cost anomaly detection with root cause: weekday/trend-aware robust scores, vectorised across series.

Public API:
- :func:`detect_cost_anomalies` — long table of daily cost rows → deduplicated ``CostAnomaly`` incidents
  with impact, severity and contribution analysis.
- :func:`score_matrix` — expected value, sigma and score of every point of an ``(S, T)`` matrix.
- :func:`detect_matrix` — causal anomalies and changes of level on any regular series (``stream``), with
  :func:`config_for_step` and the grid rules of ``grid`` (inferred frequency, gaps, duplicates).
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
from cloudoptima.analytics.anomalies.grid import Grid, infer_grid, parse_freq, to_grid
from cloudoptima.analytics.anomalies.stream import StreamConfig, StreamResult, config_for_step, detect_matrix

__all__ = [
    "DEFAULT_LEVELS",
    "ROOT_CAUSE_DIMENSIONS",
    "AnomalyConfig",
    "AnomalyCsvResult",
    "Grid",
    "ScoreMatrix",
    "SeverityThresholds",
    "StreamConfig",
    "StreamResult",
    "config_for_step",
    "detect_anomalies_csv",
    "detect_cost_anomalies",
    "detect_matrix",
    "infer_grid",
    "parse_freq",
    "score_matrix",
    "severity",
    "to_grid",
]
