"""``write_estate``: the on-disk form of a sandbox estate (read back by ``loader.load_estate``).

Layout under ``out_dir`` (all byte-identical for the same estate):

- ``focus/<provider>/<account_id>/<YYYY-MM>.csv.gz``: FOCUS 1.2 daily cost rows (header row, the 57 columns
  of ``billing.FOCUS_COLUMNS``, empty field = null, ``\\n`` line ends; gzip without name or timestamp);
- ``inventory.json``: ``{"format", "spec", "accounts", "resources", "billing_segments", "usage_profiles"}``;
- ``utilisation.parquet``: long format ``resource_id, metric`` (dictionary-encoded strings), ``ts`` (timestamp[s, UTC]),
  ``value`` (float64),
  only hours with a sample, one row group per account;
- ``iam.json``: ``{"format", "principals"}``; ``manifest.json``: the ground truth.

Cost rows and utilisation are streamed one account (and one month) at a time, so memory stays bounded.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from cloudoptima.clouds.sandbox.billing import FOCUS_COLUMNS, day_start, iter_cost_lines
from cloudoptima.clouds.sandbox.estate import Estate
from cloudoptima.clouds.sandbox.utilisation import resource_arrays
from cloudoptima.domain.inventory import MetricName

INVENTORY_FORMAT = "cloudoptima-sandbox-inventory/1"
IAM_FORMAT = "cloudoptima-sandbox-iam/1"
UTILISATION_SCHEMA = pa.schema(
    [
        ("resource_id", pa.dictionary(pa.int32(), pa.string())),
        ("metric", pa.dictionary(pa.int32(), pa.string())),
        ("ts", pa.timestamp("s", tz="UTC")),
        ("value", pa.float64()),
    ]
)
COMPRESSLEVEL = 6
_METRIC_CODES = {metric: code for code, metric in enumerate(MetricName)}


def _write_json(path: Path, payload: Any) -> None:
    path.write_text(json.dumps(payload, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


class _MonthFile:
    """A gzip CSV per month; deterministic bytes (no mtime, no file name in the gzip header)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._raw = path.open("wb")
        self._gzip = gzip.GzipFile(
            filename="", mode="wb", fileobj=self._raw, mtime=0, compresslevel=COMPRESSLEVEL
        )
        self._lines: list[str] = [",".join(FOCUS_COLUMNS)]

    def write(self, line: str) -> None:
        self._lines.append(line)
        if len(self._lines) >= 4096:
            self._flush()

    def _flush(self) -> None:
        self._gzip.write(("\n".join(self._lines) + "\n").encode("utf-8"))
        self._lines = []

    def close(self) -> None:
        if self._lines:
            self._flush()
        self._gzip.close()
        self._raw.close()


def write_cost_files(estate: Estate, out_dir: Path) -> list[Path]:
    """Write every account's FOCUS files; returns the paths written, in order."""
    written: list[Path] = []
    for account in estate.accounts:
        folder = out_dir / "focus" / account.provider.value / account.account_id
        current: _MonthFile | None = None
        month = ""
        for row_month, line in iter_cost_lines(estate, account.account_id):
            if current is None or row_month != month:
                if current is not None:
                    current.close()
                month = row_month
                path = folder / f"{month}.csv.gz"
                current = _MonthFile(path)
                written.append(path)
            current.write(line)
        if current is not None:
            current.close()
    return written


def write_utilisation(estate: Estate, path: Path) -> int:
    """Write ``utilisation.parquet``; returns the number of rows."""
    hours = estate.spec.days * 24
    origin = int(day_start(estate.spec.start).timestamp())
    timestamps = origin + 3600 * np.arange(hours, dtype=np.int64)
    total = 0
    with pq.ParquetWriter(path, UTILISATION_SCHEMA, compression="zstd") as parquet:
        for account in estate.accounts:
            names: list[str] = []
            name_parts: list[Any] = []
            metric_parts: list[Any] = []
            ts_parts: list[Any] = []
            value_parts: list[Any] = []
            for resource in estate.account_resources(account.account_id):
                for metric, values in resource_arrays(estate, resource).items():
                    present = ~np.isnan(values)
                    count = int(present.sum())
                    if count == 0:
                        continue
                    if not names or names[-1] != resource.resource_id:
                        names.append(resource.resource_id)
                    name_parts.append(np.full(count, len(names) - 1, dtype=np.int32))
                    metric_parts.append(np.full(count, _METRIC_CODES[metric], dtype=np.int32))
                    ts_parts.append(timestamps[present])
                    value_parts.append(values[present])
            if not names:
                continue
            resource_ids = pa.DictionaryArray.from_arrays(
                pa.array(np.concatenate(name_parts)), pa.array(names, pa.string())
            )
            metric_names = pa.DictionaryArray.from_arrays(
                pa.array(np.concatenate(metric_parts)), pa.array([m.value for m in MetricName], pa.string())
            )
            table = pa.table(
                {
                    "resource_id": resource_ids,
                    "metric": metric_names,
                    "ts": pa.array(np.concatenate(ts_parts), pa.timestamp("s", tz="UTC")),
                    "value": pa.array(np.concatenate(value_parts), pa.float64()),
                },
                schema=UTILISATION_SCHEMA,
            )
            parquet.write_table(table)
            total += table.num_rows
    return total


def write_estate(estate: Estate, out_dir: Path) -> list[Path]:
    """Write the whole estate under ``out_dir`` (created if needed); returns every file written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = write_cost_files(estate, out_dir)
    dumped = estate.model_dump(mode="json")
    inventory = out_dir / "inventory.json"
    _write_json(
        inventory,
        {
            "format": INVENTORY_FORMAT,
            "spec": dumped["spec"],
            "accounts": dumped["accounts"],
            "resources": dumped["resources"],
            "billing_segments": dumped["segments"],
            "usage_profiles": dumped["profiles"],
        },
    )
    iam = out_dir / "iam.json"
    _write_json(iam, {"format": IAM_FORMAT, "principals": dumped["principals"]})
    manifest = out_dir / "manifest.json"
    _write_json(manifest, dumped["manifest"])
    utilisation = out_dir / "utilisation.parquet"
    write_utilisation(estate, utilisation)
    return [*written, inventory, iam, manifest, utilisation]
