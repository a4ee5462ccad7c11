"""Azure-specific read behaviour: paging, retries, throttling, permissions, credentials, partial failures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import requests

from cloudoptima.clouds.protocol import CredentialsError, ThrottledError
from cloudoptima.domain.inventory import MetricName, ResourceKind, ResourceState
from cloudoptima_evals.fakes.azure.server import FakeAzureServer, Fault
from tests.clouds.azure.conftest import READER_ID, READER_SECRET, Estate, ProviderFactory


def test_inventory_follows_next_link_for_vms_and_disks(
    fake: FakeAzureServer, estate: Estate, make_provider: ProviderFactory
) -> None:
    inventory = make_provider().inventory()
    assert inventory.complete, inventory.failures
    by_kind = {k: [r for r in inventory.items if r.kind == k] for k in ResourceKind}
    assert len(by_kind[ResourceKind.COMPUTE_INSTANCE]) == 3  # page size 2: needs the second page
    assert len(by_kind[ResourceKind.DISK]) == 6
    assert fake.count("GET", r"Microsoft\.Compute/virtualMachines\?.*skiptoken=2") == 1
    assert fake.count("GET", r"Microsoft\.Compute/disks\?.*skiptoken=4") == 1


def test_inventory_maps_azure_facts(estate: Estate, make_provider: ProviderFactory) -> None:
    items = {r.resource_id: r for r in make_provider().inventory().items}
    web = items[estate.running_vm]
    assert web.attributes.kind == ResourceKind.COMPUTE_INSTANCE
    assert (web.attributes.vcpu, web.attributes.memory_gib) == (4, Decimal(16))
    assert web.monthly_cost == Decimal("140.16")  # 0.192 $/h x 730 h
    assert set(web.attributes.attached_disk_ids) == set(estate.attached_disks)
    batch = items[estate.stopped_vm]  # deallocated, size only known from the VM's vmSizes list
    assert batch.state == ResourceState.STOPPED and batch.monthly_cost == 0
    assert (batch.attributes.vcpu, batch.attributes.memory_gib) == (2, Decimal(16))
    old = items[estate.unattached_disk]
    assert old.state == ResourceState.AVAILABLE and old.attributes.detached_at is not None
    assert old.monthly_cost == Decimal("38.01")  # P15 tier for 256 GB
    assert items[estate.attached_disks[0]].attributes.attached_to == estate.running_vm
    assert items[estate.used_ip].attributes.associated_with == estate.running_vm
    assert items[estate.free_ip].state == ResourceState.AVAILABLE
    assert items[estate.load_balancer].attributes.target_ids == (estate.running_vm,)
    assert items[estate.snapshot].attributes.source_disk_id.endswith("/disks/gone")


def test_cost_query_follows_next_link_and_sums_exactly(
    fake: FakeAzureServer, estate: Estate, make_provider: ProviderFactory
) -> None:
    costs = make_provider().costs(estate.cost_start, estate.cost_end)
    assert costs.complete, costs.failures
    assert len(costs.items) == 15
    assert sum(c.billed_cost for c in costs.items) == estate.cost_total
    assert fake.count("POST", r"CostManagement/query") == 5  # 15 rows, 3 per page
    west = [c for c in costs.items if c.region == "westeurope"]
    assert west and all(c.resource_id == estate.west_vm for c in west)
    assert all(c.usage_type == "Microsoft.Compute/virtualMachines" for c in west)
    # Resource-level rows keep the resource's name and tags (Cost Management's "Tags" column).
    assert all(c.resource_name == "vm-eu" and c.tags == {"env": "prod"} for c in west)
    assert {c.tags.get("env") for c in costs.items if c.resource_id == estate.attached_disks[1]} == {None}


def test_resource_groups_scope_costs_inventory_and_permission_checks(
    fake: FakeAzureServer, estate: Estate, make_provider: ProviderFactory
) -> None:
    scoped = make_provider(resource_groups=["rg-eu"])
    costs = scoped.costs(estate.cost_start, estate.cost_end)
    assert {c.resource_id for c in costs.items} == {estate.west_vm}
    assert sum(c.billed_cost for c in costs.items) == sum(
        Decimal("1.0013") + Decimal(i) / 100 for i in range(5)
    )
    assert fake.count("POST", r"/resourceGroups/rg-eu/providers/Microsoft\.CostManagement/query") == 2
    assert fake.count("POST", r"/subscriptions/[^/]+/providers/Microsoft\.CostManagement/query") == 0
    inventory = scoped.inventory()
    assert inventory.items and all("/resourceGroups/rg-eu/" in r.resource_id for r in inventory.items)
    assert estate.west_vm in {r.resource_id for r in inventory.items}
    assert scoped.forecast(estate.cost_start, estate.cost_end) is not None  # one group: its own forecast
    assert scoped.verify().status == "verified"
    assert fake.count("GET", r"/resourceGroups/rg-eu/providers/Microsoft\.Authorization/permissions") == 1


def test_forecast_comes_from_cost_management(
    estate: Estate, fake: FakeAzureServer, make_provider: ProviderFactory
) -> None:
    start = datetime.now(UTC).date()
    fake.tenant.forecast_daily = Decimal("10.00")
    forecast = make_provider().forecast(start, start + timedelta(days=10))
    assert forecast is not None and len(forecast.points) == 10
    assert forecast.total == Decimal("100.00") and isinstance(forecast.total, Decimal)
    fake.tenant.forecast_daily = None  # the fake's own view: the run-rate of the 7 days before the forecast
    week = [row.cost for row in fake.tenant.costs if start - timedelta(days=7) <= row.day < start]
    rate = (sum(week, Decimal(0)) / 7).quantize(Decimal("0.0001"))
    again = make_provider().forecast(start, start + timedelta(days=10))
    assert again is not None and again.total == rate * 10


def test_throttling_is_retried_then_succeeds(
    fake: FakeAzureServer, estate: Estate, make_provider: ProviderFactory
) -> None:
    fake.add_fault(
        Fault(
            r"^GET .*/Microsoft\.Compute/disks$",
            429,
            "TooManyRequests",
            times=2,
            headers={"Retry-After": "0"},
        )
    )
    inventory = make_provider(retry_total=3).inventory()
    assert inventory.complete, inventory.failures
    assert len([r for r in inventory.items if r.kind == ResourceKind.DISK]) == 6
    assert fake.count("GET", r"Microsoft\.Compute/disks\?") == 5  # 2 throttled + 3 pages


def test_persistent_throttling_raises_throttled_error(
    fake: FakeAzureServer, estate: Estate, make_provider: ProviderFactory
) -> None:
    fake.add_fault(
        Fault(r"CostManagement/query", 429, "TooManyRequests", times=None, headers={"Retry-After": "0"})
    )
    with pytest.raises(ThrottledError):
        make_provider(retry_total=2).costs(estate.cost_start, estate.cost_end)
    assert fake.count("POST", r"CostManagement/query") == 3


def test_missing_permission_is_named(
    fake: FakeAzureServer, estate: Estate, make_provider: ProviderFactory
) -> None:
    reader = make_provider(READER_ID, READER_SECRET)
    with pytest.raises(CredentialsError) as raised:
        reader.costs(estate.cost_start, estate.cost_end)
    assert raised.value.permission == "Microsoft.CostManagement/query/action"
    verdict = reader.verify()
    assert verdict.status == "partial"  # the identity is good: the account is collected without costs
    assert verdict.missing_permissions == [
        "Microsoft.CostManagement/query/action",
        "Microsoft.CostManagement/forecast/action",
    ]


def test_bad_client_secret_is_a_credentials_error(estate: Estate, make_provider: ProviderFactory) -> None:
    provider = make_provider(secret="wrong-secret-abc123")
    with pytest.raises(CredentialsError) as raised:
        provider.inventory()
    assert "AADSTS7000215" in str(raised.value)
    assert "wrong-secret-abc123" not in str(raised.value)
    verdict = provider.verify()
    assert verdict.status == "failed" and "AADSTS7000215" in (verdict.detail or "")


def test_one_location_failing_is_partial(
    fake: FakeAzureServer, estate: Estate, make_provider: ProviderFactory
) -> None:
    fake.tenant.location_failures.add("westeurope")
    provider = make_provider(retry_total=1)
    inventory = provider.inventory()
    ids = {r.resource_id for r in inventory.items}
    assert estate.running_vm in ids and estate.west_vm not in ids
    assert [f.scope for f in inventory.failures] == ["compute/westeurope"]
    assert inventory.failures[0].retryable
    fake.tenant.location_failures.clear()
    vms = [r for r in provider.inventory().items if r.kind == ResourceKind.COMPUTE_INSTANCE]
    fake.tenant.location_failures.add("westeurope")
    end = datetime.now(UTC).date()
    series = provider.utilisation(vms, end - timedelta(days=1), end)
    assert [f.scope for f in series.failures] == ["monitor/westeurope"]
    cpu = [s for s in series.items if s.metric == MetricName.CPU_PERCENT]
    assert [s.resource_id for s in cpu] == [estate.running_vm]  # the deallocated VM has no samples
    assert len(cpu[0].values) == 24 and cpu[0].values[3] is None
    io = next(s for s in series.items if s.metric == MetricName.DISK_IO_OPS)
    assert io.values[0] is not None and io.values[0] > 3600


def test_one_resource_provider_failing_is_partial(
    fake: FakeAzureServer, estate: Estate, make_provider: ProviderFactory
) -> None:
    fake.add_fault(Fault(r"^GET .*/Microsoft\.Network/loadBalancers", 500, "InternalServerError", times=None))
    inventory = make_provider(retry_total=1).inventory()
    assert [f.scope for f in inventory.failures] == ["network/loadBalancers"]
    assert any(r.kind == ResourceKind.COMPUTE_INSTANCE for r in inventory.items)


def test_every_arm_call_sends_api_version(
    fake: FakeAzureServer, estate: Estate, make_provider: ProviderFactory
) -> None:
    provider = make_provider()
    provider.inventory()
    provider.iam()
    arm = [p for _, p in fake.requests if p.startswith("/subscriptions")]
    assert arm and all("api-version=" in p for p in arm)
    # and the fake really refuses a request without it
    token = next(iter(fake.tokens))
    reply = requests.get(
        f"{fake.base_url}/subscriptions/{fake.tenant.subscription_id}/providers/Microsoft.Compute/disks",
        headers={"Authorization": f"Bearer {token}"},
        verify=str(fake.ca_path),
        timeout=5,
    )
    assert reply.status_code == 400 and reply.json()["error"]["code"] == "MissingApiVersionParameter"


def test_iam_reports_secrets_and_privileged_grants(
    fake: FakeAzureServer, estate: Estate, make_provider: ProviderFactory
) -> None:
    principals = {p.name: p for p in make_provider().iam().items}
    deployer = principals["deployer-sp"]
    assert [g.role for g in deployer.grants] == ["Owner"] and deployer.grants[0].privileged
    active = {c.credential_id: c.active for c in deployer.credentials}
    assert active == {"key-1": True, "key-0": False}
    alice = principals["alice@contoso.example"]
    assert not alice.grants[0].privileged and alice.credentials == ()
    fake.tenant.clients["reader-app"].actions.append("Microsoft.Authorization/*")
    partial = make_provider(READER_ID, READER_SECRET).iam()
    assert {p.principal_id for p in partial.items} == {"obj-deployer", "obj-alice"}
    assert {f.scope for f in partial.failures} == {"graph"}
