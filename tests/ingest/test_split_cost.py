"""FOCUS 1.3 split cost allocation rows (#21 K): allocated resource and tags kept as tags, no double count."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

from .conftest import FIXTURES, read_all

FOCUS_13 = FIXTURES / "focus_spec_examples" / "focus_1.3_cost_and_usage.csv"


def _with_origin(tmp_path: Path, batch_split: bool = False) -> Path:
    """The spec's 1.3 example plus the origin charge of its two pod rows (node cluster-1-node-1, 6 + 4),
    written before them, as a generator that repeats the origin beside its split would."""
    with FOCUS_13.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        header, rows = list(reader.fieldnames or []), list(reader)
    pod = next(row for row in rows if row["AllocatedResourceId"] == "pod-a")
    origin = {
        **pod,
        "BilledCost": "10.00",
        "EffectiveCost": "10.00",
        "ListCost": "10.00",
        "ContractedCost": "10.00",
        "AllocatedMethodId": "",
        "AllocatedMethodDetails": "",
        "AllocatedResourceId": "",
        "AllocatedResourceName": "",
        "AllocatedTags": "",
    }
    for name in ("PricingQuantity", "ConsumedQuantity"):
        if pod.get(name):
            origin[name] = str(Decimal(pod[name]) * 2)
    rows.insert(0, origin)
    path = tmp_path / "with_origin.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


def _billed(table_rows: list[dict[str, object]]) -> Decimal:
    return sum((Decimal(str(row["billed_cost"])) for row in table_rows), Decimal(0))


def test_allocated_rows_keep_the_allocated_resource_and_tags() -> None:
    result = read_all(FOCUS_13)
    rows = result.table.to_pylist()
    pods = {
        json.loads(str(row["tags"]))["allocated_resource_id"]: row
        for row in rows
        if row["resource_id"] == "cluster-1-node-1"
    }
    assert set(pods) == {"pod-a", "pod-b"}
    assert json.loads(str(pods["pod-a"]["tags"])) == {
        "cluster": "cluster-1",
        "allocated_method_id": "vcpu-proportional",
        "allocated_resource_id": "pod-a",
        "allocated_resource_name": json.loads(str(pods["pod-a"]["extensions"]))["AllocatedResourceName"],
        "allocated_team": "team-a",
    }
    assert Decimal(str(pods["pod-b"]["billed_cost"])) == Decimal("4.00")
    assert result.summary.rows_quarantined == 0
    assert _billed(rows) == Decimal("8770.00")


def test_an_origin_repeated_beside_its_split_is_counted_once(tmp_path: Path) -> None:
    for batch_rows in (50_000, 1):  # the origin in another batch than its allocated charges
        result = read_all(_with_origin(tmp_path), batch_rows=batch_rows)
        rows = result.table.to_pylist()
        assert _billed(rows) == Decimal("8770.00")  # not 8780.00
        [record] = result.summary.quarantine
        assert (record.line, record.column) == (2, "AllocatedMethodId")
        assert record.reason.startswith(
            "origin charge repeated beside its FOCUS 1.3 split cost allocation rows"
        )
        assert sorted(str(row["resource_id"]) for row in rows).count("cluster-1-node-1") == 2
