"""The OpenCost reader without a database (#21 K): steps, special lines, errors naming where, folders."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from cloudoptima.ingest import BillingFileError

from .conftest import FIXTURES, read_all

API_JSON = FIXTURES / "opencost" / "allocation_api.json"
CSV_EXPORT = FIXTURES / "opencost" / "allocation_export.csv"


def _document() -> dict[str, object]:
    loaded: dict[str, object] = json.loads(API_JSON.read_text(encoding="utf-8"))
    return loaded


def _write(tmp_path: Path, document: object, name: str = "answer.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_every_step_and_the_unallocated_line(tmp_path: Path) -> None:
    document = _document()
    [step] = document["data"]  # type: ignore[misc]
    unallocated = {
        "name": "__unallocated__",
        "properties": {"cluster": "cluster-one", "namespace": "batch"},
        "window": {"start": "2026-11-05T00:00:00Z", "end": "2026-11-06T00:00:00Z"},
        "totalCost": "1.5",
    }
    document["data"] = [step, {"__unallocated__": unallocated}]
    rows = read_all(_write(tmp_path, document)).table.to_pylist()
    assert len(rows) == 5  # both steps
    line = next(row for row in rows if row["service_name"] == "Kubernetes unallocated")
    assert (line["billed_cost"], line["resource_type"], json.loads(str(line["tags"]))["k8s_namespace"]) == (
        "1.5",
        "Kubernetes unallocated",
        "batch",
    )
    assert sum((Decimal(str(row["billed_cost"])) for row in rows), Decimal(0)) == Decimal("7.04236043")


def test_errors_name_the_allocation_and_field(tmp_path: Path) -> None:
    document = _document()
    allocation = next(iter(document["data"][0].values()))  # type: ignore[index]
    allocation["window"]["end"] = "2026-11-02T00:00:00Z"
    with pytest.raises(BillingFileError) as caught:
        read_all(_write(tmp_path, document))
    assert caught.value.column == (
        'data[0]["cluster-one/node-a/payments/api-7d9f8c6b5-x2x4k/api"].window.end'
    )
    assert caught.value.message == "window.end must be after window.start"
    with pytest.raises(BillingFileError, match="OpenCost answered code 500"):
        read_all(_write(tmp_path, {"code": 500, "data": None}))
    lines = CSV_EXPORT.read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2].replace("2026-11-01", "01/11/2026")
    broken = tmp_path / "dates.csv"
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(BillingFileError) as dates:
        read_all(broken)
    assert (dates.value.line, dates.value.column) == (3, "Date")


def test_a_folder_reads_json_only_as_opencost(tmp_path: Path) -> None:
    shutil.copy(CSV_EXPORT, tmp_path / "export.csv")
    _write(tmp_path, {"not": "billing"}, name="manifest.json")
    auto = read_all(tmp_path)  # a manifest beside the export is not taken for a billing file
    assert [f.format for f in auto.summary.files] == ["opencost"]
    assert auto.summary.rows_accepted == 5
    with pytest.raises(BillingFileError, match="not an allocation object"):
        read_all(tmp_path, fmt="opencost")
