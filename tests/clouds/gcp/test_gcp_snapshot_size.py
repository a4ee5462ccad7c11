"""Compute bills a snapshot by the bytes it stores, not by its source disk's size: the inventory sizes and
prices snapshots on ``storageBytes`` (rounded up), so a removal's saving is what the snapshot costs."""

from __future__ import annotations

from decimal import Decimal

from cloudoptima.domain.inventory import SnapshotAttributes
from tests.clouds.gcp.conftest import GcpWorld


def test_snapshot_is_sized_and_priced_on_its_stored_bytes(world: GcpWorld) -> None:
    snap = world.state.snapshots["old-snap"]
    snap["diskSizeGb"], snap["storageBytes"] = "80", str(20 * 1024**3 + 1)  # a byte over 20 GB

    resources = {r.resource_id: r for r in world.provider().inventory().items}

    found = resources[world.ids["snapshot"]]
    assert isinstance(found.attributes, SnapshotAttributes)
    assert found.attributes.size_gb == 21
    assert found.monthly_cost == Decimal("1.05")  # 21 GB x 0.05 USD per GB-month
