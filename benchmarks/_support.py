"""Shared benchmark plumbing: an embedded Postgres in a temp dir, timing, a table and a JSON file."""

from __future__ import annotations

import json
import shutil
import signal
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from cloudoptima.embedded import postgres
from cloudoptima.embedded.ports import free_port
from cloudoptima.embedded.process import stop
from cloudoptima.storage.migrate import upgrade

RESULTS = Path(__file__).parent / "results"


@contextmanager
def embedded_database(name: str = "bench") -> Iterator[str]:
    """A migrated database on a fresh, throwaway embedded Postgres (no fsync: loads do not wait for the disk;
    the queries timed are reads); removed afterwards."""
    state = Path(tempfile.mkdtemp(prefix="cloudoptima-bench-"))
    port = free_port()
    process = postgres.start(postgres.PostgresLayout.in_state_dir(state), port, durable=False)
    try:
        postgres.ensure_database(port, name)
        url = postgres.url_for(port, name)
        upgrade(url)
        yield url
    finally:
        stop(process, sig=signal.SIGINT)
        shutil.rmtree(state, ignore_errors=True)


def timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    """Wall-clock milliseconds of ``repeat`` calls."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def p50(samples: list[float]) -> float:
    return statistics.median(samples)


def report(name: str, rows: list[tuple[str, str]], data: dict[str, Any]) -> None:
    """Print a two-column table and write ``results/<name>.json``."""
    table = Table(title=name)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for metric, value in rows:
        table.add_row(metric, value)
    Console().print(table)
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, default=str))
    Console().print(f"wrote {path}")
