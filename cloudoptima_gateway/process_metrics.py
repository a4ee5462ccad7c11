"""Prometheus exposition for a gateway of one or several processes (``GATEWAY_WORKERS``).

Contract:

- One process (no ``PROMETHEUS_MULTIPROC_DIR`` in the environment): ``GET /metrics`` serves the app's own
  registry (HTTP metrics and the scrape-time operator gauges) followed by the business metrics this process
  recorded (``cloudoptima.observability.metrics``).
- Several processes: :func:`prepare_multiprocess_directory` runs in the supervisor *before* any worker
  starts; it sets ``PROMETHEUS_MULTIPROC_DIR`` (the operator's, emptied, or a new temporary one), which every
  worker inherits, so ``prometheus_client`` keeps each process's counters and histograms in files there.
  Whichever worker answers the scrape then serves the sum over every worker (``MultiProcessCollector``),
  plus the operator gauges, read from the database once at scrape time. Every CloudOptima metric is a
  counter, a histogram or a scrape-time gauge, so summing across processes is exact.
- The directory must be empty when the workers start (files of an earlier run would be added in); the
  supervisor removes a temporary directory when it stops.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_directory() -> Path | None:
    """The shared metrics directory of this gateway's processes, or None when it runs alone."""
    value = os.environ.get(MULTIPROC_ENV, "").strip()
    return Path(value) if value else None


@contextmanager
def prepare_multiprocess_directory() -> Iterator[Path]:
    """Set ``PROMETHEUS_MULTIPROC_DIR`` for the workers about to start (see module contract); on exit remove
    the directory when it was created here (an operator's directory is kept, emptied at the next start)."""
    given = multiprocess_directory()
    if given is not None:
        given.mkdir(parents=True, exist_ok=True)
        for stale in given.glob("*.db"):
            stale.unlink()
        yield given
        return
    created = Path(tempfile.mkdtemp(prefix="cloudoptima-gateway-metrics-"))
    os.environ[MULTIPROC_ENV] = str(created)
    try:
        yield created
    finally:
        os.environ.pop(MULTIPROC_ENV, None)
        shutil.rmtree(created, ignore_errors=True)


def exposition(app_registry: CollectorRegistry, business: CollectorRegistry, gauges: Collector) -> bytes:
    """The text ``GET /metrics`` serves (blocking: the gauges read the database; call it off the event loop).

    ``app_registry`` holds this process's HTTP metrics and ``gauges``; ``business`` the business metrics.
    """
    directory = multiprocess_directory()
    if directory is None:
        return generate_latest(app_registry) + generate_latest(business)
    merged = CollectorRegistry(auto_describe=False)
    MultiProcessCollector(merged, path=str(directory))  # type: ignore[no-untyped-call]
    merged.register(gauges)
    return generate_latest(merged)
