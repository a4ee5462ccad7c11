"""What the live evals' database plants share: the hourly workloads of planted databases.

:func:`database_load` gives the hourly CPU percent and peak client connections of one kind of database
(``idle``: no connection, CPU 0.8–2.2 %; ``oversized``: 8–40 connections, CPU ~10 % capped at 18 %;
``busy``: 80–200 connections, CPU ~60 %), from a seeded generator: the same seed, the same estate.
"""

from __future__ import annotations

import numpy as np

from cloudoptima_evals.live_scoring import FloatArray


def database_load(rng: np.random.Generator, kind: str, hours: int) -> tuple[FloatArray, FloatArray]:
    """Hourly CPU percent and peak connections of one kind of database workload (see module docstring)."""
    hour_of_day = np.arange(hours) % 24
    if kind == "idle":
        return rng.uniform(0.8, 2.2, hours), np.zeros(hours)
    if kind == "oversized":
        cpu = np.clip(10 + 4 * np.sin(hour_of_day / 24 * 2 * np.pi) + rng.normal(0, 1.5, hours), 3, 18)
        return cpu, rng.integers(8, 40, hours).astype(np.float64)
    cpu = np.clip(60 + 12 * np.sin(hour_of_day / 24 * 2 * np.pi) + rng.normal(0, 4, hours), 30, 95)
    return cpu, rng.integers(80, 200, hours).astype(np.float64)
