"""Persist collected inventory into ``resources`` (JSONB documents), idempotently.

``upsert_resources`` inserts or updates one row per (organisation, cloud account, resource id), so a retried
or replayed collection never duplicates; resources not seen in a *complete* collection are marked deleted.
``first_seen`` is set when a resource is first stored; ``last_updated`` moves only when its name, status,
region, tags or configuration changed (or it was marked deleted), not on every sighting, and ``previous_seen``
then takes the sighting before it (the old state's last: the change happened between the two).
With ``metrics=None`` the stored utilisation summaries of existing rows are kept (new rows get ``{}``).
The rows go in one cached statement that SQLAlchemy batches into multi-row ``VALUES`` (its "insertmanyvalues"
mode, which it applies to an upsert only when the statement has ``RETURNING``: without it, psycopg sends one
statement per row). One statement cannot touch a row twice, so a read that lists a resource twice keeps the
last.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, case, tuple_, update
from sqlalchemy.dialects.postgresql import insert

from cloudoptima.domain.inventory import Resource
from cloudoptima.storage.models import ResourceDocument

RESOURCE_TYPE_NAMES = {
    "compute_instance": "compute_instance",
    "disk": "disk",
    "snapshot": "snapshot",
    "public_ip": "public_ip",
    "load_balancer": "load_balancer",
    "database": "database",
    "bucket": "bucket",
}


def _document(
    organization_id: uuid.UUID,
    cloud_account_id: uuid.UUID | None,
    resource: Resource,
    metrics: Mapping[str, Any],
    seen_at: datetime,
) -> dict[str, Any]:
    configuration = resource.attributes.model_dump(mode="json")
    configuration.update(
        {
            "account_id": resource.account_id,
            "service_name": resource.service_name,
            "sku_id": resource.sku_id,
            "launched_at": resource.launched_at.isoformat() if resource.launched_at else None,
            "stopped_at": resource.stopped_at.isoformat() if resource.stopped_at else None,
            "deleted_at": resource.deleted_at.isoformat() if resource.deleted_at else None,
        }
    )
    return {
        "id": uuid.uuid4(),
        "organization_id": organization_id,
        "cloud_account_id": cloud_account_id,
        "resource_id": resource.resource_id,
        "resource_name": resource.name,
        "provider": str(resource.provider),
        "resource_type": RESOURCE_TYPE_NAMES.get(str(resource.kind), str(resource.kind)),
        "region": resource.region,
        "status": str(resource.state),
        "configuration": configuration,
        "metrics": dict(metrics),
        "cost_monthly": resource.monthly_cost,
        "tags": dict(resource.tags),
        "recommendations": [],
        "created_at": resource.created_at,
        "last_seen": seen_at,
        "last_updated": seen_at,
        "first_seen": seen_at,
    }


def _changed(table: Any, excluded: Any) -> Any:
    """Whether what a person would call the resource changed: name, status, region, tags or configuration."""
    return tuple_(
        table.resource_name, table.status, table.region, table.tags, table.configuration
    ).is_distinct_from(
        tuple_(
            excluded.resource_name, excluded.status, excluded.region, excluded.tags, excluded.configuration
        )
    )


def upsert_resources(
    connection: Connection,
    organization_id: uuid.UUID,
    cloud_account_id: uuid.UUID | None,
    resources: Sequence[Resource],
    metrics: Mapping[str, Mapping[str, Any]] | None,
    seen_at: datetime,
    *,
    complete: bool,
) -> int:
    """Upsert ``resources``; when ``complete``, mark this account's unseen resources ``deleted``. Returns how
    many distinct resources were stored.

    ``metrics`` maps resource ids to the summaries to store; None keeps what is stored."""
    documents = [
        _document(
            organization_id,
            cloud_account_id,
            r,
            (metrics or {}).get(r.resource_id, {}),
            seen_at,
        )
        for r in resources
    ]
    rows = list({row["resource_id"]: row for row in documents}.values())
    if rows:
        statement = insert(ResourceDocument)
        excluded, table = statement.excluded, ResourceDocument.__table__.c
        updates = {
            "resource_name": excluded.resource_name,
            "status": excluded.status,
            "configuration": excluded.configuration,
            "cost_monthly": excluded.cost_monthly,
            "tags": excluded.tags,
            "region": excluded.region,
            "last_seen": excluded.last_seen,
            # The sighting before a change: the old state was last seen then (SET reads the row's old values).
            "previous_seen": case((_changed(table, excluded), table.last_seen), else_=table.previous_seen),
            # Moves only when what a person would call the resource changed (``resource.changed`` events).
            "last_updated": case(
                (_changed(table, excluded), excluded.last_updated), else_=table.last_updated
            ),
        }
        if metrics is not None:
            updates["metrics"] = excluded.metrics
        connection.execute(
            statement.on_conflict_do_update(
                index_elements=["organization_id", "cloud_account_id", "resource_id"], set_=updates
            ).returning(ResourceDocument.id),
            rows,
        ).close()
    if complete:
        seen = [r.resource_id for r in resources]
        connection.execute(
            update(ResourceDocument)
            .where(
                ResourceDocument.organization_id == organization_id,
                ResourceDocument.cloud_account_id == cloud_account_id,
                ResourceDocument.resource_id.not_in(seen),
                ResourceDocument.status != "deleted",
            )
            .values(status="deleted", last_updated=seen_at, previous_seen=ResourceDocument.last_seen)
        )
    return len(rows)
