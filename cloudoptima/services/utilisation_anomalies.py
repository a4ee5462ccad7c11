"""Anomalies in the utilisation the product collects (CPU, memory, network, connections per hour), found
by the same causal detector as cost (``analytics.anomalies.stream``).

Contract (``UtilisationAnomalies(connection, org).scan(end, days=…)``):
- Reads the stored hourly history (``storage.utilisation_history``) of the ``days`` days before ``end``
  (on the hour) — filtered by provider, account identifier, resources and metrics when given — and runs
  ``detect_matrix`` with the hourly defaults (``config_for_step(1 h)``: daily and weekly cycles, a warm-up
  of one day, noise over three days). Every decision at an hour uses only the hours before it.
- Returns one :class:`UtilisationAlert` per alert (the start of an anomaly, or of a lasting change of
  level reported once), newest first, at most ``limit``: which resource and metric, the hour, the value,
  the expected value, the score in ``[0, 1)`` and the direction (``limit=None``: all of them). ``days`` must be 2–93 (the history's
  default retention), else ``ValueError``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from cloudoptima.analytics.anomalies.stream import CHANGE, config_for_step, detect_matrix
from cloudoptima.storage import utilisation_history

MAX_DAYS = 93


@dataclass(frozen=True)
class UtilisationAlert:
    """One alert on one resource's metric."""

    cloud_account_id: uuid.UUID
    resource_id: str
    metric: str
    at: datetime
    value: float
    expected: float
    score: float
    kind: Literal["anomaly", "change"]
    direction: Literal["up", "down"]


class UtilisationAnomalies:
    """Utilisation alerts of one organisation over one connection (the caller scopes and closes it)."""

    def __init__(self, connection: Connection, organization_id: uuid.UUID) -> None:
        self._connection = connection
        self._org = organization_id

    def scan(
        self,
        end: datetime,
        *,
        days: int = 14,
        provider: str | None = None,
        account: str | None = None,
        resource_ids: Sequence[str] | None = None,
        metrics: Sequence[str] | None = None,
        direction: Literal["up", "down", "both"] = "both",
        limit: int | None = 100,
    ) -> list[UtilisationAlert]:
        """Alerts of the ``days`` before ``end`` (see module contract)."""
        if not 2 <= days <= MAX_DAYS:
            raise ValueError(f"days must be between 2 and {MAX_DAYS}, got {days}")
        stop = pd.Timestamp(end).floor("h").to_pydatetime()
        keys, hours, values = utilisation_history.hourly_matrix(
            self._connection,
            self._org,
            stop - timedelta(days=days),
            stop,
            provider=provider,
            account=account,
            resource_ids=resource_ids,
            metrics=metrics,
        )
        if not keys:
            return []
        result = detect_matrix(values, config_for_step(pd.Timedelta(hours=1), direction=direction))
        rows, columns = np.nonzero(result.alert)
        alerts = [
            UtilisationAlert(
                cloud_account_id=keys[r][0],
                resource_id=keys[r][1],
                metric=keys[r][2],
                at=hours[c].to_pydatetime(),
                value=round(float(values[r, c]), 4),
                expected=round(float(result.expected[r, c]), 4),
                score=round(float(result.score[r, c]), 4),
                kind="change" if result.alert[r, c] == CHANGE else "anomaly",
                direction="up" if values[r, c] >= result.expected[r, c] else "down",
            )
            for r, c in zip(rows.tolist(), columns.tolist(), strict=True)
        ]
        alerts.sort(key=lambda a: (a.at, a.resource_id, a.metric), reverse=True)
        return alerts if limit is None else alerts[:limit]
