"""Read a sandbox estate back from the files ``writer.write_estate`` produced.

``load_estate(dir)`` rebuilds the ``Estate`` (equal to the one written); ``read_cost_rows`` streams the FOCUS
rows as ``{column: value}`` dicts (empty string = null); ``read_utilisation`` returns the hourly series of one
resource as domain ``UtilisationSeries``, aligned on the estate window.
"""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import pyarrow.parquet as pq

from cloudoptima.clouds.sandbox.billing import FOCUS_COLUMNS, day_start
from cloudoptima.clouds.sandbox.estate import Estate, EstateSpec
from cloudoptima.clouds.sandbox.writer import IAM_FORMAT, INVENTORY_FORMAT
from cloudoptima.domain.inventory import MetricName, UtilisationSeries


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def load_estate(directory: Path) -> Estate:
    """The estate stored in ``directory``; raises ``ValueError`` on an unknown file format."""
    inventory = _read_json(directory / "inventory.json")
    iam = _read_json(directory / "iam.json")
    if inventory.get("format") != INVENTORY_FORMAT or iam.get("format") != IAM_FORMAT:
        raise ValueError(f"{directory} does not hold a {INVENTORY_FORMAT} estate")
    return Estate.model_validate(
        {
            "spec": inventory["spec"],
            "accounts": inventory["accounts"],
            "resources": inventory["resources"],
            "segments": inventory["billing_segments"],
            "profiles": inventory["usage_profiles"],
            "principals": iam["principals"],
            "manifest": _read_json(directory / "manifest.json"),
        }
    )


def cost_files(directory: Path) -> list[Path]:
    """Every FOCUS file under ``directory/focus``, sorted by path."""
    return sorted((directory / "focus").glob("*/*/*.csv.gz"))


def read_cost_rows(directory: Path) -> Iterator[dict[str, str]]:
    """Stream every FOCUS row; raises ``ValueError`` if a file's header is not the FOCUS column list."""
    for path in cost_files(directory):
        with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader)
            if tuple(header) != FOCUS_COLUMNS:
                raise ValueError(f"{path}: unexpected header")
            for row in reader:
                yield dict(zip(FOCUS_COLUMNS, row, strict=True))


def read_utilisation(directory: Path, resource_id: str) -> tuple[UtilisationSeries, ...]:
    """The hourly series of ``resource_id`` stored in ``utilisation.parquet`` (absent hours are ``None``)."""
    spec = EstateSpec.model_validate(_read_json(directory / "inventory.json")["spec"])
    table = pq.read_table(directory / "utilisation.parquet", filters=pc.field("resource_id") == resource_id)
    start = day_start(spec.start)
    hours = spec.days * 24
    by_metric: dict[str, list[float | None]] = {}
    columns = table.to_pydict()
    for metric, ts, value in zip(columns["metric"], columns["ts"], columns["value"], strict=True):
        cells = by_metric.setdefault(metric, [None] * hours)
        cells[int((ts - start).total_seconds() // 3600)] = float(value)
    return tuple(
        UtilisationSeries(
            resource_id=resource_id, metric=MetricName(metric), start=start, values=tuple(cells)
        )
        for metric, cells in by_metric.items()
    )
