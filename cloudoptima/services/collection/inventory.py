"""The inventory step: upsert the account's resources (keeping their utilisation summaries); resources not
seen in a complete read are marked deleted. Denied parts of the read become permission problems."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection

from cloudoptima.clouds.protocol import CloudProviderClient
from cloudoptima.domain.inventory import Resource
from cloudoptima.services import collection_problems
from cloudoptima.services.collection.context import CollectionContext, failure_labels
from cloudoptima.services.collection.results import AccountRef, InventoryStep
from cloudoptima.storage.inventory_store import upsert_resources


def collect_inventory(
    context: CollectionContext,
    ref: AccountRef,
    provider: CloudProviderClient,
    connection: Connection | None = None,
) -> tuple[InventoryStep, Sequence[Resource]]:
    """Read and upsert the inventory (one transaction); returns the step and the resources read."""
    read = provider.inventory()
    with context.transaction(connection) as bound:
        count = upsert_resources(
            bound,
            ref.organization_id,
            ref.cloud_account_id,
            read.items,
            None,
            context.now(),
            complete=read.complete,
        )
    step = InventoryStep(
        resources=count,
        complete=read.complete,
        failures=failure_labels(read.failures),
        permission_problems=collection_problems.from_failures("inventory", read.failures),
    )
    return step, read.items
