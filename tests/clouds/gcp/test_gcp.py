"""GCP-specific behaviour: paging, partial failures, throttling, permissions, auth, BigQuery, Monitoring, actions."""

from __future__ import annotations

import base64
import json
from decimal import Decimal

import httpx
import pytest

from cloudoptima.clouds.gcp import GcpProvider
from cloudoptima.clouds.protocol import (
    ActionKind,
    ActionRefusedError,
    ActionRequest,
    CredentialsError,
    ThrottledError,
)
from cloudoptima.domain.inventory import MetricName, PrincipalKind, ResourceKind, ResourceState
from tests.clouds.gcp.conftest import (
    COST_END,
    COST_START,
    METRIC_END,
    METRIC_START,
    GcpWorld,
    StaticTokenCredentials,
)


def _by_id(provider: GcpProvider) -> dict[str, object]:
    return {r.resource_id: r for r in provider.inventory().items}


def test_aggregated_list_paging_is_followed_to_the_end(world: GcpWorld) -> None:
    inventory = world.provider().inventory()
    assert inventory.complete, inventory.failures
    instances = {r.name for r in inventory.items if r.kind == ResourceKind.COMPUTE_INSTANCE}
    assert instances == {"web-1", "batch-2", "odd-3"}
    tokens = [token for route, token in world.state.calls if route == "aggregated:instances"]
    assert tokens == ["", "2"], "3 instances at 2 per page need a second page"
    kinds = {r.kind for r in inventory.items}
    assert kinds == {
        ResourceKind.COMPUTE_INSTANCE,
        ResourceKind.DISK,
        ResourceKind.SNAPSHOT,
        ResourceKind.PUBLIC_IP,
        ResourceKind.LOAD_BALANCER,
    }


def test_mapping_of_states_shapes_attachments_and_costs(world: GcpWorld) -> None:
    items = {r.resource_id: r for r in world.provider().inventory().items}
    web, batch, odd = items[world.ids["web"]], items[world.ids["batch"]], items[world.ids["odd"]]
    assert web.attributes.kind == ResourceKind.COMPUTE_INSTANCE
    assert (web.attributes.vcpu, web.attributes.memory_gib) == (4, Decimal(16))
    assert web.attributes.attached_disk_ids == ("projects/finops-demo/zones/us-central1-a/disks/web-1-boot",)
    assert web.monthly_cost > 0 and web.region == "us-central1" and web.tags == {"env": "prod"}
    assert batch.state == ResourceState.STOPPED and batch.monthly_cost == 0
    assert odd.attributes.vcpu == 7, "shape not in the price table comes from machineTypes.get"
    assert any(route.startswith("machineTypes") for route, _ in world.state.calls)
    boot = items["projects/finops-demo/zones/us-central1-a/disks/web-1-boot"]
    assert boot.attributes.attached_to == world.ids["web"] and boot.state == ResourceState.IN_USE
    orphan = items[world.ids["orphan_disk"]]
    assert orphan.monthly_cost == Decimal("8.00") and orphan.state == ResourceState.AVAILABLE
    snap = items[world.ids["snapshot"]]
    assert snap.attributes.source_disk_id == "projects/finops-demo/zones/us-central1-a/disks/gone-disk"
    assert items[world.ids["idle_ip"]].state == ResourceState.AVAILABLE
    assert items[world.ids["web_ip"]].attributes.associated_with == world.ids["web"]
    assert items[world.ids["lb"]].attributes.target_ids == (
        "projects/finops-demo/regions/us-central1/targetPools/web-pool",
    )


def test_unreachable_zone_is_a_partial_failure(world: GcpWorld) -> None:
    world.state.unreachable = {"europe-west1-b"}
    inventory = world.provider().inventory()
    scopes = {f.scope for f in inventory.failures}
    assert "compute/instances/europe-west1-b" in scopes and "compute/disks/europe-west1-b" in scopes
    assert world.ids["web"] in {r.resource_id for r in inventory.items}


def test_throttling_is_retried_then_succeeds(world: GcpWorld) -> None:
    world.state.throttle["aggregated"] = 2
    inventory = world.provider().inventory()
    assert inventory.complete
    assert world.state.throttle["aggregated"] == 0
    assert [r for r, _ in world.state.calls].count("aggregated:instances") == 4  # 2 refused + 2 pages


def test_persistent_throttling_raises_throttled_error(world: GcpWorld) -> None:
    world.state.throttle["aggregated"] = -1
    with pytest.raises(ThrottledError, match="compute/instances"):
        world.provider().inventory()
    assert [r for r, _ in world.state.calls].count("aggregated:instances") > 2


def test_permission_denied_names_the_permission(world: GcpWorld) -> None:
    world.state.permissions.discard("compute.instances.list")
    with pytest.raises(CredentialsError) as caught:
        world.provider().inventory()
    assert caught.value.permission == "compute.instances.list"
    verification = world.provider().verify()
    assert verification.status == "partial" and verification.missing_permissions == ["compute.instances.list"]


def test_validate_reports_missing_action_permission_and_execute_refuses(world: GcpWorld) -> None:
    world.state.permissions.discard("compute.instances.stop")
    provider = world.provider()
    stop = ActionRequest(kind=ActionKind.STOP, resource_id=world.ids["web"])
    verdict = provider.validate_action(stop)
    assert not verdict.ok and verdict.missing_permissions == ["compute.instances.stop"]
    assert any("compute.instances.stop" in p for p in verdict.problems)
    with pytest.raises(CredentialsError) as caught:
        provider.execute_action(stop, "k-denied")
    assert caught.value.permission == "compute.instances.stop"
    assert world.state.instances["us-central1-a/web-1"]["status"] == "RUNNING"


def test_fakes_refuse_calls_without_the_bearer_token(world: GcpWorld) -> None:
    reply = httpx.get(f"{world.rest.url}/compute/v1/projects/finops-demo/aggregated/instances")
    assert reply.status_code == 401 and reply.json()["error"]["status"] == "UNAUTHENTICATED"
    wrong = world.provider(credentials=StaticTokenCredentials("not-the-token"))
    assert wrong.verify().status == "failed"
    with pytest.raises(CredentialsError, match="credentials rejected"):
        wrong.iam()  # the gRPC fake checks the token too
    instance = next(r for r in world.provider().inventory().items if r.resource_id == world.ids["web"])
    with pytest.raises(CredentialsError):
        wrong.utilisation([instance], METRIC_START, METRIC_END)


def test_costs_follow_bigquery_pages_and_keep_decimal_precision(world: GcpWorld) -> None:
    costs = world.provider().costs(COST_START, COST_END)
    assert costs.complete and len(costs.items) == 10  # 5 days x 2 services
    tokens = [t for route, t in world.state.calls if route.startswith("bq.results")]
    assert "8" in tokens, f"getQueryResults pageToken paging did not run to the end: {tokens}"
    compute = [c for c in costs.items if c.service_name == "Compute Engine"]
    assert all(c.billed_cost == Decimal("1.134567890") for c in compute)
    assert compute[0].resource_id == world.ids["web"]  # the inventory's id: costs and resources join
    assert compute[0].service_category == "Compute" and compute[0].region == "us-central1"
    # Labels and the resource name of the (detailed) export travel with the cost: cost by tag works on GCP.
    assert compute[0].tags == {"env": "prod", "team": "web"}
    assert compute[0].resource_name == world.ids["web"].rsplit("/", 1)[-1]
    assert all(
        c.tags == {} and c.resource_id is None for c in costs.items if c.service_name == "Cloud Storage"
    )
    assert sum(c.billed_cost for c in costs.items) == world.state.expected_total(COST_START, COST_END)


def test_costs_throttled_then_served(world: GcpWorld) -> None:
    world.state.throttle["bq.query"] = 1
    assert len(world.provider().costs(COST_START, COST_END).items) == 10


def test_monitoring_series_over_grpc(world: GcpWorld) -> None:
    provider = world.provider()
    world.state.throttle["ListTimeSeries"] = 1
    resources = [r for r in provider.inventory().items if r.kind == ResourceKind.COMPUTE_INSTANCE]
    series = provider.utilisation(resources, METRIC_START, METRIC_END)
    assert series.complete, series.failures
    by = {(s.resource_id, s.metric): s for s in series.items}
    cpu = by[(world.ids["web"], MetricName.CPU_PERCENT)]
    assert len(cpu.values) == 48 and cpu.values[10] is None
    assert cpu.values[0] == pytest.approx(5.0) and cpu.values[13] == pytest.approx(18.0)
    assert set(by[(world.ids["web"], MetricName.DISK_IO_OPS)].values) == {10.0}  # read + write per hour
    assert set(by[(world.ids["web"], MetricName.NETWORK_OUT_BYTES)].values) == {1000.0}
    assert by[(world.ids["odd"], MetricName.CPU_PERCENT)].present()[0] == pytest.approx(90.0)
    assert (world.ids["batch"], MetricName.CPU_PERCENT) not in by


def test_iam_principals_keys_and_privileged_grants(world: GcpWorld) -> None:
    principals = world.provider().iam()
    assert principals.complete
    named = {p.name: p for p in principals.items}
    assert set(named) == {
        "deployer@finops-demo.iam.gserviceaccount.com",
        "reader@finops-demo.iam.gserviceaccount.com",
        "ci@finops-demo.iam.gserviceaccount.com",
        "alice@example.com",
        "finops@example.com",
    }, "three accounts over two pages, policy users and groups, no allUsers"
    deployer = named["deployer@finops-demo.iam.gserviceaccount.com"]
    assert deployer.kind == PrincipalKind.SERVICE_ACCOUNT
    keys = {c.credential_id: c for c in deployer.credentials}
    assert set(keys) == {"k-live", "k-expired"}, "system-managed keys are not listed"
    assert keys["k-live"].active and keys["k-live"].expires_at is None
    assert not keys["k-expired"].active
    assert [g.privileged for g in deployer.grants] == [True]
    alice = named["alice@example.com"]
    assert {(g.role, g.privileged) for g in alice.grants} == {("roles/owner", True), ("roles/viewer", False)}


def test_recommendations_are_paged_with_savings(world: GcpWorld) -> None:
    found = world.provider().recommendations(["us-central1-b"])
    assert found.complete and len(found.items) == 3
    assert all(
        r.monthly_savings == Decimal("65.50") and r.resource_id == world.ids["batch"] for r in found.items
    )


def test_asset_inventory_gives_the_same_resources(world: GcpWorld) -> None:
    from_compute = {(r.resource_id, r.monthly_cost, r.state) for r in world.provider().inventory().items}
    from_assets = world.provider(use_asset_inventory=True).inventory()
    assert from_assets.complete
    assert {(r.resource_id, r.monthly_cost, r.state) for r in from_assets.items} == from_compute
    assert any(route.startswith("assets") for route, _ in world.state.calls)


def test_resize_stops_resizes_starts_and_rolls_back(world: GcpWorld) -> None:
    provider = world.provider()
    resize = ActionRequest(
        kind=ActionKind.RESIZE, resource_id=world.ids["web"], parameters={"size": "e2-standard-2"}
    )
    result = provider.execute_action(resize, "resize-1")
    web = _by_id(provider)[world.ids["web"]]
    assert web.attributes.instance_type == "e2-standard-2" and web.state == ResourceState.RUNNING  # type: ignore[attr-defined]
    assert (
        result.before["machine_type"] == "e2-standard-4" and result.after["machine_type"] == "e2-standard-2"
    )
    assert result.rollback.action is not None
    provider.execute_action(result.rollback.action, "resize-1-rollback")
    assert world.state.instances["us-central1-a/web-1"]["machineType"].endswith("/e2-standard-4")


def test_snapshot_then_delete_disk_and_restore(world: GcpWorld) -> None:
    provider = world.provider()
    attached = ActionRequest(
        kind=ActionKind.SNAPSHOT_AND_DELETE_DISK,
        resource_id="projects/finops-demo/zones/us-central1-a/disks/web-1-boot",
    )
    with pytest.raises(ActionRefusedError, match="attached"):
        provider.execute_action(attached, "snap-attached")
    request = ActionRequest(kind=ActionKind.SNAPSHOT_AND_DELETE_DISK, resource_id=world.ids["orphan_disk"])
    result = provider.execute_action(request, "snap-1")
    assert "us-central1-a/orphan-1" not in world.state.disks
    snapshot = result.after["snapshot"].rsplit("/", 1)[-1]
    assert world.state.snapshots[snapshot]["sourceDisk"].endswith("/disks/orphan-1")
    restore = result.rollback.action
    assert restore is not None and restore.kind == ActionKind.RESTORE_DISK
    assert result.rollback.irreversible is None and "same resource id" in result.rollback.evidence["note"]
    assert restore.parameters == {
        "snapshot_id": result.after["snapshot"],
        "name": "orphan-1",
        "zone": "us-central1-a",
        "disk_type": "pd-standard",
        "size_gb": 200,
        "tags": {},
    }
    restored = provider.execute_action(restore, "snap-1-restore")
    assert restored.after["disk_id"] == world.ids["orphan_disk"]
    disk = world.state.disks["us-central1-a/orphan-1"]
    assert disk["sourceSnapshot"].endswith(snapshot) and disk["type"].endswith("/pd-standard")
    assert restored.rollback.action is None and restored.rollback.irreversible is None
    assert provider.execute_action(restore, "snap-1-restore") == restored
    inserts = [c for c in world.state.calls if c[0].startswith("disks.insert")]
    assert len(inserts) == 1, inserts


def test_restore_disk_refuses_missing_parameters_snapshot_and_permission(world: GcpWorld) -> None:
    provider = world.provider()
    gone = "projects/finops-demo/zones/us-central1-a/disks/gone-disk"
    bare = ActionRequest(kind=ActionKind.RESTORE_DISK, resource_id=gone)
    verdict = provider.validate_action(bare)
    assert not verdict.ok
    for name in ("snapshot_id", "zone", "disk_type", "size_gb"):
        assert any(f"parameters.{name}" in p for p in verdict.problems), verdict.problems
    params = {"zone": "us-central1-a", "disk_type": "pd-standard", "size_gb": 80}
    ghost = bare.model_copy(
        update={"parameters": {**params, "snapshot_id": "projects/finops-demo/global/snapshots/nope"}}
    )
    verdict = provider.validate_action(ghost)
    assert not verdict.ok and any("snapshots/nope" in p for p in verdict.problems), verdict.problems
    with pytest.raises(ActionRefusedError, match="snapshots/nope"):
        provider.execute_action(ghost, "restore-ghost")
    fine = bare.model_copy(update={"parameters": {**params, "snapshot_id": world.ids["snapshot"]}})
    assert provider.validate_action(fine).ok
    small = fine.model_copy(update={"parameters": {**fine.parameters, "size_gb": 10}})
    assert any("smaller" in p for p in provider.validate_action(small).problems)
    live = fine.model_copy(update={"resource_id": world.ids["orphan_disk"]})
    assert any("still exists" in p for p in provider.validate_action(live).problems)
    world.state.permissions.discard("compute.snapshots.useReadOnly")
    verdict = provider.validate_action(fine)
    assert not verdict.ok and verdict.missing_permissions == ["compute.snapshots.useReadOnly"]
    with pytest.raises(CredentialsError):
        provider.execute_action(fine, "restore-denied")
    assert "us-central1-a/gone-disk" not in world.state.disks


def test_release_ip_and_delete_snapshot_are_irreversible(world: GcpWorld) -> None:
    provider = world.provider()
    in_use = ActionRequest(kind=ActionKind.RELEASE_IP, resource_id=world.ids["web_ip"])
    assert not provider.validate_action(in_use).ok
    result = provider.execute_action(
        ActionRequest(kind=ActionKind.RELEASE_IP, resource_id=world.ids["idle_ip"]), "ip-1"
    )
    assert result.after["released_ip"] == "35.1.1.1" and "35.1.1.1" in (result.rollback.irreversible or "")
    assert "us-central1/idle-ip" not in world.state.addresses
    snap = provider.execute_action(
        ActionRequest(kind=ActionKind.DELETE_SNAPSHOT, resource_id=world.ids["snapshot"]), "s-1"
    )
    assert snap.rollback.irreversible and "old-snap" not in world.state.snapshots


def test_request_id_makes_a_second_runner_idempotent(world: GcpWorld) -> None:
    stop = ActionRequest(kind=ActionKind.STOP, resource_id=world.ids["web"])
    world.provider().execute_action(stop, "same-key")
    world.state.instances["us-central1-a/web-1"]["status"] = "RUNNING"  # someone started it again
    operations = len(world.state.operations)
    # a fresh provider has no memory of the key, so it validates (RUNNING: ok) and sends the stop again,
    # with the same requestId: Compute answers with the first operation and does not act twice
    world.provider().execute_action(stop, "same-key")
    assert len(world.state.operations) == operations
    assert world.state.instances["us-central1-a/web-1"]["status"] == "RUNNING"


def test_tag_overwrite_rollback_restores_the_old_value(world: GcpWorld) -> None:
    provider = world.provider()
    tag = ActionRequest(
        kind=ActionKind.TAG, resource_id=world.ids["web"], parameters={"tags": {"env": "dev"}}
    )
    result = provider.execute_action(tag, "tag-env")
    assert world.state.instances["us-central1-a/web-1"]["labels"] == {"env": "dev"}
    assert result.rollback.action is not None
    provider.execute_action(result.rollback.action, "tag-env-back")
    assert world.state.instances["us-central1-a/web-1"]["labels"] == {"env": "prod"}
    bad = tag.model_copy(update={"parameters": {"tags": {"Owner": "X Y"}}})
    assert not provider.validate_action(bad).ok


def test_service_account_key_errors_never_echo_the_key() -> None:
    secret = base64.b64encode(
        json.dumps({"type": "service_account", "private_key": "SECRET-PEM"}).encode()
    ).decode()
    with pytest.raises(CredentialsError) as caught:
        GcpProvider({"service_account_json_b64": secret}, {"project_id": "p"})
    assert "SECRET-PEM" not in str(caught.value)
    with pytest.raises(CredentialsError, match="not base64"):
        GcpProvider({"service_account_json_b64": "%%%not-base64"}, {"project_id": "p"})
