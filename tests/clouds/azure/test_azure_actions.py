"""Azure-specific actions: deallocate, resize, snapshot-then-delete, delete snapshot, release IP, permissions."""

from __future__ import annotations

import pytest

from cloudoptima.clouds.protocol import ActionKind, ActionRefusedError, ActionRequest, CredentialsError
from cloudoptima.domain.inventory import ResourceState
from cloudoptima_evals.fakes.azure.server import FakeAzureServer
from tests.clouds.azure.conftest import READER_ID, READER_SECRET, Estate, ProviderFactory


def test_stop_deallocates_once_per_key(
    fake: FakeAzureServer, estate: Estate, make_provider: ProviderFactory
) -> None:
    provider = make_provider()
    stop = ActionRequest(kind=ActionKind.STOP, resource_id=estate.running_vm)
    first = provider.execute_action(stop, "k-stop")
    again = provider.execute_action(stop, "k-stop")
    assert again == first
    assert first.after["power_state"] == "deallocated"
    assert fake.count("POST", r"vm-web/deallocate") == 1
    assert fake.count("POST", r"vm-web/powerOff") == 0
    vm = next(r for r in provider.inventory().items if r.resource_id == estate.running_vm)
    assert vm.state == ResourceState.STOPPED and vm.monthly_cost == 0
    with pytest.raises(ActionRefusedError, match="another request"):
        provider.execute_action(ActionRequest(kind=ActionKind.START, resource_id=estate.running_vm), "k-stop")


def test_resize_deallocates_changes_size_and_starts(
    fake: FakeAzureServer, estate: Estate, make_provider: ProviderFactory
) -> None:
    provider = make_provider()
    resize = ActionRequest(
        kind=ActionKind.RESIZE, resource_id=estate.running_vm, parameters={"size": "Standard_D2s_v5"}
    )
    result = provider.execute_action(resize, "k-resize")
    assert result.before["size"] == "Standard_D4s_v5"
    assert result.after == {"power_state": "running", "size": "Standard_D2s_v5", "location": "eastus"}
    assert fake.count("POST", r"vm-web/deallocate") == 1 and fake.count("POST", r"vm-web/start") == 1
    assert result.rollback.action is not None and result.rollback.action.parameters == {
        "size": "Standard_D4s_v5"
    }
    provider.execute_action(result.rollback.action, "k-resize-back")
    assert fake.tenant.get(estate.running_vm)["properties"]["hardwareProfile"]["vmSize"] == "Standard_D4s_v5"


def test_stop_refused_when_already_deallocated(estate: Estate, make_provider: ProviderFactory) -> None:
    provider = make_provider()
    verdict = provider.validate_action(ActionRequest(kind=ActionKind.STOP, resource_id=estate.stopped_vm))
    assert not verdict.ok and "deallocated" in verdict.problems[0]
    assert verdict.current_state["power_state"] == "deallocated"


def test_snapshot_then_delete_disk_and_restore(
    fake: FakeAzureServer, estate: Estate, make_provider: ProviderFactory
) -> None:
    provider = make_provider()
    request = ActionRequest(kind=ActionKind.SNAPSHOT_AND_DELETE_DISK, resource_id=estate.unattached_disk)
    assert provider.validate_action(request).ok
    result = provider.execute_action(request, "k-disk")
    assert fake.tenant.get(estate.unattached_disk) is None
    snapshot = fake.tenant.get(result.after["snapshot_id"])
    assert snapshot is not None and snapshot["properties"]["diskSizeGB"] == 256
    assert snapshot["properties"]["creationData"]["sourceResourceId"] == estate.unattached_disk
    restore = result.rollback.action
    assert restore is not None and restore.kind == ActionKind.RESTORE_DISK
    assert result.rollback.irreversible is None
    assert restore.parameters["snapshot_id"] == result.after["snapshot_id"]
    assert restore.parameters["sku"] == "Premium_LRS" and restore.parameters["location"] == "eastus"
    restored = provider.execute_action(restore, "k-disk-back")
    assert restored.after["disk_id"].lower() == estate.unattached_disk.lower()
    disk = fake.tenant.get(estate.unattached_disk)
    assert (
        disk is not None and disk["properties"]["diskSizeGB"] == 256 and disk["sku"]["name"] == "Premium_LRS"
    )
    assert disk["properties"]["creationData"]["sourceResourceId"] == result.after["snapshot_id"]
    assert restored.rollback.action is None and restored.rollback.irreversible is None
    assert provider.execute_action(restore, "k-disk-back") == restored
    assert fake.count("PUT", r"disks/old-data") == 1, "a repeated key does not PUT the disk again"


def test_restore_disk_refuses_missing_parameters_a_missing_snapshot_and_a_live_disk(
    fake: FakeAzureServer, estate: Estate, make_provider: ProviderFactory
) -> None:
    provider = make_provider()
    gone = estate.unattached_disk.replace("old-data", "never-was")
    bare = ActionRequest(kind=ActionKind.RESTORE_DISK, resource_id=gone)
    verdict = provider.validate_action(bare)
    assert not verdict.ok
    for name in ("snapshot_id", "location", "sku", "size_gb"):
        assert any(f"parameters.{name}" in p for p in verdict.problems), verdict.problems
    params = {"location": "eastus", "sku": "Standard_LRS", "size_gb": 64}
    ghost_snapshot = estate.snapshot.replace("snap-old", "snap-ghost")
    ghost = bare.model_copy(update={"parameters": {**params, "snapshot_id": ghost_snapshot}})
    verdict = provider.validate_action(ghost)
    assert not verdict.ok and any("snap-ghost" in p for p in verdict.problems), verdict.problems
    with pytest.raises(ActionRefusedError, match="snap-ghost"):
        provider.execute_action(ghost, "k-ghost")
    live = bare.model_copy(
        update={
            "resource_id": estate.unattached_disk,
            "parameters": {**params, "snapshot_id": estate.snapshot},
        }
    )
    verdict = provider.validate_action(live)
    assert not verdict.ok and any("still exists" in p for p in verdict.problems), verdict.problems
    assert fake.count("PUT", r"disks/") == 0, "validation changed nothing"
    fine = bare.model_copy(update={"parameters": {**params, "snapshot_id": estate.snapshot}})
    assert provider.validate_action(fine).ok
    reader = make_provider(READER_ID, READER_SECRET).validate_action(fine)
    assert not reader.ok and reader.missing_permissions == ["Microsoft.Compute/disks/write"]
    assert fake.tenant.get(gone) is None


def test_attached_disk_is_refused(estate: Estate, make_provider: ProviderFactory) -> None:
    request = ActionRequest(kind=ActionKind.SNAPSHOT_AND_DELETE_DISK, resource_id=estate.attached_disks[1])
    with pytest.raises(ActionRefusedError, match="Attached"):
        make_provider().execute_action(request, "k-attached")


def test_delete_snapshot_is_irreversible(
    fake: FakeAzureServer, estate: Estate, make_provider: ProviderFactory
) -> None:
    result = make_provider().execute_action(
        ActionRequest(kind=ActionKind.DELETE_SNAPSHOT, resource_id=estate.snapshot), "k-snap"
    )
    assert result.rollback.action is None and result.rollback.irreversible
    assert fake.tenant.get(estate.snapshot) is None


def test_release_associated_ip_dissociates_then_deletes(
    fake: FakeAzureServer, estate: Estate, make_provider: ProviderFactory
) -> None:
    provider = make_provider()
    request = ActionRequest(kind=ActionKind.RELEASE_IP, resource_id=estate.used_ip)
    verdict = provider.validate_action(request)
    assert verdict.ok and verdict.current_state["address"] == "20.1.2.3"
    result = provider.execute_action(request, "k-ip")
    assert result.after["released_address"] == "20.1.2.3"
    assert "20.1.2.3" in (result.rollback.irreversible or "")
    assert fake.tenant.get(estate.used_ip) is None
    nic = fake.tenant.get(estate.nic)
    assert "publicIPAddress" not in nic["properties"]["ipConfigurations"][0]["properties"]


def test_missing_action_permission_in_validate_and_execute(
    fake: FakeAzureServer, estate: Estate, make_provider: ProviderFactory
) -> None:
    reader = make_provider(READER_ID, READER_SECRET)
    stop = ActionRequest(kind=ActionKind.STOP, resource_id=estate.running_vm)
    verdict = reader.validate_action(stop)
    assert not verdict.ok
    assert "Microsoft.Compute/virtualMachines/deallocate/action" in verdict.missing_permissions
    with pytest.raises(CredentialsError) as raised:
        reader.execute_action(stop, "k-reader")
    assert raised.value.permission == "Microsoft.Compute/virtualMachines/deallocate/action"
    assert fake.count("POST", r"deallocate") == 0
    assert fake.tenant.power[estate.running_vm.lower()] == "running"


def test_arm_authorization_failure_names_the_action(
    fake: FakeAzureServer, estate: Estate, make_provider: ProviderFactory
) -> None:
    fake.tenant.clients["owner-app"].not_actions.append("Microsoft.Compute/virtualMachines/instanceView/read")
    with pytest.raises(CredentialsError) as raised:
        make_provider().inventory()
    assert raised.value.permission == "Microsoft.Compute/virtualMachines/instanceView/read"
