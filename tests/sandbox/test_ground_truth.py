"""Every planted waste item and look-alike exists with the properties the manifest claims."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import numpy as np

from cloudoptima.clouds.sandbox import Estate, LookAlikeKind, WasteKind, catalog, utilisation_arrays
from cloudoptima.clouds.sandbox.billing import day_start
from cloudoptima.clouds.sandbox.waste import IGNORE_TAGS
from cloudoptima.domain.inventory import (
    DiskAttributes,
    InstanceAttributes,
    LoadBalancerAttributes,
    MetricName,
    PublicIpAttributes,
    ResourceState,
    SnapshotAttributes,
)

FIVE_MB = 5 * 1024 * 1024


def _values(estate: Estate, resource_id: str, metric: MetricName) -> np.ndarray:
    values = utilisation_arrays(estate, resource_id)[metric]
    return values[~np.isnan(values)]


def _items(estate: Estate, kind: WasteKind) -> list:
    items = [w for w in estate.manifest.waste if w.kind is kind]
    assert items, kind
    return items


def test_every_kind_is_planted_and_every_id_resolves(estate: Estate) -> None:
    assert {w.kind for w in estate.manifest.waste} == set(WasteKind)
    assert {n.kind for n in estate.manifest.should_not_flag} == set(LookAlikeKind)
    waste_ids = {rid for w in estate.manifest.waste for rid in w.resource_ids}
    for item in (*estate.manifest.waste, *estate.manifest.should_not_flag):
        for resource_id in item.resource_ids:
            assert estate.resource(resource_id).account_id == item.account_id
    look_alike_ids = {rid for n in estate.manifest.should_not_flag for rid in n.resource_ids}
    assert not waste_ids & look_alike_ids
    assert all(n.should_not_flag for n in estate.manifest.should_not_flag)
    assert all(w.monthly_savings > 0 for w in estate.manifest.waste)


def test_idle_vms_have_low_p95_cpu_and_network(estate: Estate) -> None:
    for item in _items(estate, WasteKind.IDLE_VM):
        vm = estate.resource(item.resource_ids[0])
        assert vm.state is ResourceState.RUNNING and item.action == "stop"
        assert np.percentile(_values(estate, vm.resource_id, MetricName.CPU_PERCENT), 95) < 5
        arrays = utilisation_arrays(estate, vm.resource_id)
        traffic = arrays[MetricName.NETWORK_IN_BYTES] + arrays[MetricName.NETWORK_OUT_BYTES]
        daily = np.nansum(traffic.reshape(-1, 24), axis=1)
        assert daily.max() < FIVE_MB
        assert item.monthly_savings == vm.monthly_cost


def test_oversized_vms_fit_the_next_smaller_size_with_headroom(estate: Estate) -> None:
    for item in _items(estate, WasteKind.OVERSIZED_VM):
        vm = estate.resource(item.resource_ids[0])
        assert isinstance(vm.attributes, InstanceAttributes)
        smaller = catalog.next_smaller(vm.provider, vm.attributes.instance_type)
        assert smaller is not None and item.action_params["target_type"] == smaller.name
        cpu = _values(estate, vm.resource_id, MetricName.CPU_PERCENT)
        memory = _values(estate, vm.resource_id, MetricName.MEMORY_PERCENT)
        assert np.percentile(cpu, 99) * vm.attributes.vcpu / smaller.vcpu <= 80
        assert float(memory.max()) * float(vm.attributes.memory_gib / smaller.memory_gib) <= 80
        assert np.percentile(cpu, 95) >= 5, "oversized must not also be idle"
        hourly = catalog.instance_hourly(vm.provider, vm.attributes.instance_type, vm.region)
        saved = hourly - catalog.instance_hourly(vm.provider, smaller.name, vm.region)
        assert item.monthly_savings == saved * 730 > 0


def test_unattached_disks_and_orphaned_snapshots(estate: Estate) -> None:
    end = day_start(estate.spec.end)
    for item in _items(estate, WasteKind.UNATTACHED_DISK):
        disk = estate.resource(item.resource_ids[0])
        assert isinstance(disk.attributes, DiskAttributes) and disk.attributes.attached_to is None
        assert disk.attributes.detached_at is not None and disk.attributes.detached_at <= end - timedelta(
            days=30
        )
        assert item.monthly_savings == disk.monthly_cost
        io = utilisation_arrays(estate, disk.resource_id)[MetricName.DISK_IO_OPS]
        assert np.nansum(io[-24 * 30 :]) == 0
    ids = {r.resource_id for r in estate.resources if r.state is not ResourceState.DELETED}
    for item in _items(estate, WasteKind.ORPHANED_SNAPSHOT):
        snap = estate.resource(item.resource_ids[0])
        assert isinstance(snap.attributes, SnapshotAttributes)
        assert snap.attributes.source_disk_id not in ids
        assert snap.created_at <= end - timedelta(days=90)


def test_unassociated_ips_and_idle_load_balancers(estate: Estate) -> None:
    for item in _items(estate, WasteKind.UNASSOCIATED_IP):
        ip = estate.resource(item.resource_ids[0])
        assert isinstance(ip.attributes, PublicIpAttributes) and ip.attributes.associated_with is None
        assert ip.state is ResourceState.AVAILABLE
    for item in _items(estate, WasteKind.IDLE_LOAD_BALANCER):
        lb = estate.resource(item.resource_ids[0])
        assert isinstance(lb.attributes, LoadBalancerAttributes) and lb.attributes.target_ids == ()
        assert _values(estate, lb.resource_id, MetricName.REQUESTS).sum() == 0
    busy_lbs = [
        r
        for r in estate.resources
        if isinstance(r.attributes, LoadBalancerAttributes) and r.attributes.target_ids
    ]
    assert all(_values(estate, lb.resource_id, MetricName.REQUESTS).sum() > 0 for lb in busy_lbs)


def test_stopped_vms_with_disks_and_commitments(estate: Estate) -> None:
    end = day_start(estate.spec.end)
    for item in _items(estate, WasteKind.STOPPED_VM_WITH_DISKS):
        vm = estate.resource(item.resource_ids[0])
        assert vm.state is ResourceState.STOPPED and vm.stopped_at is not None
        assert vm.stopped_at <= end - timedelta(days=30)
        disks = [estate.resource(d) for d in item.resource_ids[1:]]
        assert isinstance(vm.attributes, InstanceAttributes)
        assert set(vm.attributes.attached_disk_ids) == {d.resource_id for d in disks}
        assert item.monthly_savings == sum((d.monthly_cost for d in disks), Decimal(0))
    for item in _items(estate, WasteKind.MISSING_COMMITMENT):
        rate = catalog.COMMITMENT_RATE[item.provider]
        on_demand = Decimal(0)
        for resource_id in item.resource_ids:
            vm = estate.resource(resource_id)
            segments = estate.segments[resource_id]
            assert vm.state is ResourceState.RUNNING and len(segments) == 1 and segments[0].end is None
            assert segments[0].start <= end - timedelta(days=30)
            on_demand += vm.monthly_cost
        assert item.monthly_savings == (on_demand * (1 - rate)).quantize(Decimal("0.000001"))


def test_look_alikes_have_the_properties_that_make_them_safe(estate: Estate) -> None:
    end = day_start(estate.spec.end)
    ignore_keys = {k for tags in IGNORE_TAGS for k in tags}
    by_kind = {kind: [n for n in estate.manifest.should_not_flag if n.kind is kind] for kind in LookAlikeKind}
    for item in by_kind[LookAlikeKind.BUSY_LOW_AVERAGE_VM]:
        cpu = _values(estate, item.resource_ids[0], MetricName.CPU_PERCENT)
        assert cpu.mean() < 10 and np.percentile(cpu, 99) >= 85
    for item in by_kind[LookAlikeKind.IGNORE_TAGGED_VM]:
        vm = estate.resource(item.resource_ids[0])
        assert ignore_keys & vm.tags.keys()
        assert np.percentile(_values(estate, vm.resource_id, MetricName.CPU_PERCENT), 95) < 5
    for item in by_kind[LookAlikeKind.RECENT_UNATTACHED_DISK]:
        disk = estate.resource(item.resource_ids[0])
        assert isinstance(disk.attributes, DiskAttributes) and disk.attributes.attached_to is None
        assert disk.created_at > end - timedelta(days=7)
    for item in by_kind[LookAlikeKind.LIVE_VOLUME_SNAPSHOT]:
        snap = estate.resource(item.resource_ids[0])
        assert isinstance(snap.attributes, SnapshotAttributes) and snap.created_at <= end - timedelta(days=90)
        source = estate.resource(snap.attributes.source_disk_id)
        assert isinstance(source.attributes, DiskAttributes) and source.attributes.attached_to is not None
        assert source.state is not ResourceState.DELETED
    for item in by_kind[LookAlikeKind.RECENTLY_STOPPED_VM]:
        vm = estate.resource(item.resource_ids[0])
        assert vm.state is ResourceState.STOPPED and vm.stopped_at is not None
        assert vm.stopped_at > end - timedelta(days=30)


def test_iam_principals_have_keys_with_dates_and_privileged_grants(estate: Estate) -> None:
    assert {p.account_id for p in estate.principals} == {a.account_id for a in estate.accounts}
    keys = [c for p in estate.principals for c in p.credentials]
    assert keys and all(c.last_used_at is None or c.last_used_at >= c.created_at for c in keys)
    end = day_start(estate.spec.end)
    assert any(c.last_used_at is None for c in keys)
    assert any(c.last_used_at is not None and c.last_used_at < end - timedelta(days=90) for c in keys)
    assert any(g.privileged for p in estate.principals for g in p.grants)
