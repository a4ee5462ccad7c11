"""Safety snapshots a remediation takes (``snapshot_and_delete_disk``): inventoried and priced.

Contract:

- :func:`inventory_snapshot` turns the snapshot a succeeded ``snapshot_and_delete_disk`` step reported
  (``after.snapshot_id``) into a ``snapshot`` resource of the same cloud account (upserted like a collected
  resource, so a retried call and a later collection update the same row), sized like the deleted disk
  (``before.size_gb``, else the stored disk's ``configuration.size_gb``) and tagged like it plus
  ``cloudoptima:safety-snapshot-of=<disk id>``. Any other step, or a step without a snapshot id, gives None.
- Its monthly cost is the organisation's price catalogue's full-size snapshot price
  (:func:`cloudoptima.services.price_catalog.price_catalog_for`: the price store's list price when the
  organisation has live accounts and a refresh stored one, else the built-in sandbox catalogue, else the
  connectors' built-in tables); ``price_source`` names that tier. Snapshots are incremental, so a full-size
  price is the upper bound of what it bills. Unknown price: cost 0 with ``price_source`` None.
- :func:`estimate_snapshot` prices the snapshot a planned ``snapshot_and_delete_disk`` would keep the same
  way, so the plan an approver reads already shows the saving net of it.
- The caller owns the transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cloudoptima.domain.inventory import (
    CloudProvider,
    Resource,
    ResourceKind,
    ResourceState,
    SnapshotAttributes,
)
from cloudoptima.domain.recommendations import money
from cloudoptima.domain.remediation import StepOutcome
from cloudoptima.services.price_catalog import price_catalog_for
from cloudoptima.storage.inventory_store import upsert_resources
from cloudoptima.storage.models import ResourceDocument

SNAPSHOT_ACTION = "snapshot_and_delete_disk"
SAFETY_TAG = "cloudoptima:safety-snapshot-of"


@dataclass(frozen=True)
class SafetySnapshot:
    """A safety snapshot as inventoried: where it is, its size and what it costs a month (and who says)."""

    resource_id: str
    source_disk_id: str
    provider: str
    region: str
    size_gb: int
    monthly_cost: Decimal
    price_source: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "resource_id": self.resource_id,
            "source_disk_id": self.source_disk_id,
            "provider": self.provider,
            "region": self.region,
            "size_gb": self.size_gb,
            "monthly_cost": str(self.monthly_cost),
            "price_source": self.price_source,
        }


def _size(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        size = int(str(value))
    except (TypeError, ValueError):
        return None
    return size if size > 0 else None


@dataclass(frozen=True)
class _Disk:
    row: ResourceDocument
    provider: CloudProvider
    region: str
    size_gb: int
    monthly_cost: Decimal
    price_source: str | None


def _disk(
    session: Session,
    organization_id: uuid.UUID,
    cloud_account_id: uuid.UUID,
    resource_id: str,
    state: dict[str, Any],
) -> _Disk | None:
    """The stored disk, its size and region (``state`` first: what the provider reported) and the monthly
    price of a full-size snapshot of it; None when the disk or its size is unknown."""
    disk = session.scalars(
        select(ResourceDocument).where(
            ResourceDocument.organization_id == organization_id,
            ResourceDocument.cloud_account_id == cloud_account_id,
            ResourceDocument.resource_id == resource_id,
        )
    ).first()
    if disk is None:
        return None
    size = _size(state.get("size_gb")) or _size(dict(disk.configuration or {}).get("size_gb"))
    region = str(state.get("region") or disk.region or "")
    if size is None or not region:
        return None
    provider = CloudProvider(disk.provider)
    prices = price_catalog_for(session, organization_id)
    price = prices.snapshot_monthly(provider, region, size)
    source = prices.price_source(provider, "snapshot", region, "standard") if price is not None else None
    cost = money(price) if price is not None else Decimal(0)
    return _Disk(disk, provider, region, size, cost, source)


def estimate_snapshot(
    session: Session,
    organization_id: uuid.UUID,
    cloud_account_id: uuid.UUID,
    resource_id: str,
    state: dict[str, Any],
) -> tuple[int, Decimal, str | None] | None:
    """``(size_gb, monthly cost, price source)`` of the safety snapshot a ``snapshot_and_delete_disk`` of
    ``resource_id`` would keep (priced as in the module contract), or None when the disk is unknown."""
    disk = _disk(session, organization_id, cloud_account_id, resource_id, state)
    return None if disk is None else (disk.size_gb, disk.monthly_cost, disk.price_source)


def inventory_snapshot(
    session: Session,
    organization_id: uuid.UUID,
    cloud_account_id: uuid.UUID,
    outcome: StepOutcome,
    *,
    seen_at: datetime,
) -> SafetySnapshot | None:
    """Inventory the safety snapshot of ``outcome`` (see module contract)."""
    snapshot_id = outcome.after.get("snapshot_id")
    if outcome.action != SNAPSHOT_ACTION or outcome.status != "succeeded" or not snapshot_id:
        return None
    found = _disk(session, organization_id, cloud_account_id, outcome.resource_id, dict(outcome.before))
    if found is None:
        return None
    disk, configuration = found.row, dict(found.row.configuration or {})
    tags = {str(k): str(v) for k, v in (disk.tags or {}).items()} | {SAFETY_TAG: outcome.resource_id}
    resource = Resource(
        resource_id=str(snapshot_id),
        name=f"{disk.resource_name or outcome.resource_id}-safety-snapshot",
        kind=ResourceKind.SNAPSHOT,
        provider=found.provider,
        account_id=str(configuration.get("account_id") or ""),
        region=found.region,
        service_name=str(configuration.get("service_name") or ""),
        sku_id="",
        attributes=SnapshotAttributes(size_gb=found.size_gb, source_disk_id=outcome.resource_id),
        tags=tags,
        monthly_cost=found.monthly_cost,
        state=ResourceState.RUNNING,
        created_at=seen_at,
    )
    upsert_resources(
        session.connection(), organization_id, cloud_account_id, [resource], None, seen_at, complete=False
    )
    return SafetySnapshot(
        resource_id=str(snapshot_id),
        source_disk_id=outcome.resource_id,
        provider=found.provider.value,
        region=found.region,
        size_gb=found.size_gb,
        monthly_cost=found.monthly_cost,
        price_source=found.price_source,
    )
