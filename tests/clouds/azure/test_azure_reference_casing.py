"""ARM ids are case-insensitive and a reference keeps the casing its creator typed: the inventory spells
every reference to a listed resource as that resource's own id, so the rules (which compare ids exactly)
do not take a live source disk for a deleted one."""

from __future__ import annotations

from cloudoptima.domain.inventory import DiskAttributes, SnapshotAttributes
from cloudoptima_evals.fakes.azure.server import FakeAzureServer
from tests.clouds.azure.conftest import Estate, ProviderFactory


def test_snapshot_source_and_disk_owner_are_spelled_as_the_listed_ids(
    fake: FakeAzureServer, estate: Estate, make_provider: ProviderFactory
) -> None:
    tenant = fake.tenant
    live_disk = estate.attached_disks[0]
    shouted = live_disk.replace("/resourceGroups/rg-prod/", "/resourceGroups/RG-PROD/")
    snapshot = tenant.add_snapshot("rg-prod", "snap-of-live", "eastus", shouted, 30)
    gone = tenant.rid("RG-PROD", "Microsoft.Compute", "disks", "deleted-disk")
    orphan = tenant.add_snapshot("rg-prod", "snap-of-gone", "eastus", gone, 30)
    disk = tenant.get(live_disk)
    assert disk is not None
    disk["managedBy"] = estate.running_vm.upper()

    resources = {r.resource_id: r for r in make_provider().inventory().items}

    kept = resources[snapshot].attributes
    assert isinstance(kept, SnapshotAttributes) and kept.source_disk_id == live_disk
    lost = resources[orphan].attributes
    assert isinstance(lost, SnapshotAttributes) and lost.source_disk_id == gone  # not listed: unchanged
    owned = resources[live_disk].attributes
    assert isinstance(owned, DiskAttributes) and owned.attached_to == estate.running_vm
