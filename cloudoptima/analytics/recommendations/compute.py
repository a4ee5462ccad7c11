"""VM rules: idle VMs (stop), rightsizing to the next smaller size, and VMs stopped for long still paying disks.

Contract (thresholds in ``profiles``):
- ``idle_vms``: running, not excluded, ≥ ``min_days`` of CPU and network samples, CPU statistic and
  network within the profile → ``stop``. Saving = the instance's monthly price × the share of the week it
  bills (5/7 on the weekday schedule); its disks keep billing and are not counted. The price is the
  catalogue's list price, else the resource's own reported cost, else unknown: the finding is still listed
  (saving 0, "price unknown"); ``evidence.price_source`` says which.
- ``rightsizing``: running, not already covered, a smaller size exists in the family, CPU and memory
  have ≥ ``min_days`` of samples and both projected onto the smaller size stay within the headroom →
  ``resize {"size": smaller}``. Saving = price difference × billed share of the week. When memory was
  never observed (AWS without the CloudWatch agent) but CPU and network were, the resize is still advised
  as Compute Optimizer does, if the CPU statistic *and its observed peak* fit the smaller size with the
  headroom; the finding says memory was not observed, lists it as a risk and has lower confidence.
- ``stopped_vms``: stopped for ≥ ``min_days`` (the stop time must be known) with disks still billing →
  ``snapshot_and_delete_disk`` for each disk. Saving = the disks' monthly price.
"""

from __future__ import annotations

from decimal import Decimal

from cloudoptima.analytics.recommendations.build import (
    PRICE_UNKNOWN,
    Finding,
    action,
    list_source,
    whole_saving,
)
from cloudoptima.analytics.recommendations.context import RuleContext, data_confidence
from cloudoptima.domain.inventory import (
    DiskAttributes,
    InstanceAttributes,
    Resource,
    ResourceKind,
    ResourceState,
)
from cloudoptima.domain.prices import PriceKind
from cloudoptima.domain.recommendations import Category, ImpactAnalysis, ResourceChange, RiskLevel

CPU, MEMORY = "cpu_percent", "memory_percent"
NET_IN, NET_OUT = "network_in_bytes", "network_out_bytes"
_WEEKDAY_SHARE = Decimal(5) / Decimal(7)


def _running_vms(ctx: RuleContext) -> list[tuple[Resource, InstanceAttributes]]:
    return [
        (r, r.attributes)
        for r in ctx.running(ResourceKind.COMPUTE_INSTANCE)
        if isinstance(r.attributes, InstanceAttributes)
    ]


def billed_share(attributes: InstanceAttributes) -> Decimal:
    """Share of a 730-hour month the instance bills (weekday schedule: 5/7)."""
    return _WEEKDAY_SHARE if attributes.schedule == "weekdays" else Decimal(1)


def _network_ok(ctx: RuleContext, resource_id: str) -> tuple[bool, dict[str, float]]:
    profile = ctx.settings.idle_vm
    net_in, net_out = ctx.metric(resource_id, NET_IN), ctx.metric(resource_id, NET_OUT)
    if net_in is None or net_out is None:
        return False, {}
    per_day = (net_in["avg"] + net_out["avg"]) * 24
    evidence = {"network_bytes_per_day": round(per_day, 1), "network_in_p95": net_in["p95"]}
    ok = True
    if profile.network_bytes_per_day is not None:
        ok &= per_day <= profile.network_bytes_per_day
    if profile.network_p95_in_bytes_per_hour is not None:
        ok &= net_in["p95"] <= profile.network_p95_in_bytes_per_hour
    if profile.network_p95_out_bytes_per_hour is not None:
        ok &= net_out["p95"] <= profile.network_p95_out_bytes_per_hour
    return ok, evidence


def idle_vms(ctx: RuleContext) -> list[Finding]:
    """Running VMs doing no work → stop (see module contract)."""
    profile = ctx.settings.idle_vm
    findings = []
    for vm, attributes in _running_vms(ctx):
        rid = vm.resource_id
        if not ctx.enough(rid, (CPU, NET_IN, NET_OUT), profile.min_days):
            continue
        cpu = ctx.metric(rid, CPU)
        assert cpu is not None
        limit = profile.cpu_max_percent / attributes.vcpu if profile.cpu_per_vcpu else profile.cpu_max_percent
        network_ok, network = _network_ok(ctx, rid)
        if cpu[profile.cpu_stat] > limit or not network_ok:
            continue
        cost, price_source = whole_saving(
            ctx,
            vm,
            ctx.prices.instance_monthly(vm.provider, vm.region, attributes.instance_type),
            PriceKind.INSTANCE,
            attributes.instance_type,
            billed_share(attributes),
        )
        days = ctx.sample_days(rid, CPU)
        priced = price_source != PRICE_UNKNOWN
        price_note = (
            ""
            if priced
            else f" Price unknown for {attributes.instance_type} in {vm.region}: the saving is not estimated."
        )
        findings.append(
            Finding(
                rule_id="idle_vm",
                profile=profile.name,
                title=f"Stop idle VM {vm.name}",
                description=(
                    f"{vm.name} ({attributes.instance_type}) ran with CPU {profile.cpu_stat} "
                    f"{cpu[profile.cpu_stat]:.1f} % (limit {limit:.2f} %) and "
                    f"{network.get('network_bytes_per_day', 0) / 1e6:.2f} MB/day of network over {days:.0f} "
                    f"days. Stopping it ends the compute charge; its disks keep billing. {profile.source}."
                    f"{price_note}"
                ),
                category=Category.COMPUTE,
                risk=RiskLevel.LOW,
                confidence=data_confidence(0.9, days),
                savings_monthly=cost,
                resources=[(vm, cost)],
                actions=[action("stop", vm, f"Stop {vm.name}")],
                impact=ImpactAnalysis(
                    performance_impact="none: the VM does no measurable work",
                    availability_impact="anything still depending on the VM loses it until it is started",
                    security_impact="none; a stopped VM exposes no running services",
                ),
                changes=[
                    ResourceChange(
                        resource_id=rid,
                        change_type="stop",
                        before={"state": "running"},
                        after={"state": "stopped"},
                    )
                ],
                risks=["a rarely used job (monthly, quarterly) may need the VM outside the observed window"],
                rollback="start the VM again (same disks, same configuration)",
                evidence={
                    "cpu": dict(cpu),
                    **network,
                    "cpu_limit_percent": limit,
                    "days": round(days, 1),
                    "price_source": price_source,
                },
                price_known=priced,
            )
        )
    return findings


def rightsizing(ctx: RuleContext) -> list[Finding]:
    """Running VMs whose CPU and memory fit the next smaller size with headroom → resize."""
    profile = ctx.settings.rightsizing
    findings = []
    for vm, attributes in _running_vms(ctx):
        rid = vm.resource_id
        current = ctx.prices.instance_size(vm.provider, attributes.instance_type)
        target = ctx.prices.next_smaller_instance(vm.provider, attributes.instance_type)
        if current is None or target is None or not ctx.enough(rid, (CPU,), profile.min_days):
            continue
        memory_seen = ctx.enough(rid, (MEMORY,), profile.min_days)
        if not memory_seen and (
            ctx.metric(rid, MEMORY) or not ctx.enough(rid, (NET_IN, NET_OUT), profile.min_days)
        ):
            continue  # some memory samples but too few, or memory unknown without network evidence either
        cpu, memory = ctx.metric(rid, CPU), ctx.metric(rid, MEMORY)
        assert cpu is not None
        cpu_projected = cpu[profile.cpu_stat] * current.vcpu / target.vcpu
        cpu_limit = 100.0 - profile.cpu_headroom_percent
        memory_limit = 100.0 - profile.memory_headroom_percent
        if memory is not None and memory_seen:
            memory_projected: float | None = memory[profile.memory_stat] * float(
                current.memory_gib / target.memory_gib
            )
        else:
            memory_projected = None
            # Without memory the CPU is judged on its observed peak too: the smaller size must still hold it.
            if cpu["max"] * current.vcpu / target.vcpu > cpu_limit:
                continue
        if cpu_projected > cpu_limit or (memory_projected is not None and memory_projected > memory_limit):
            continue
        now = ctx.prices.instance_monthly(vm.provider, vm.region, current.name)
        after = ctx.prices.instance_monthly(vm.provider, vm.region, target.name)
        if now is None or after is None or after >= now:
            continue
        share = billed_share(attributes)
        days = ctx.sample_days(rid, CPU)
        if memory_projected is not None:
            margin = min(cpu_limit - cpu_projected, memory_limit - memory_projected) / max(cpu_limit, 1.0)
            memory_text = (
                f"memory {profile.memory_stat} {memory_projected:.0f} % (limit {memory_limit:.0f} %)"
            )
            base_confidence = 0.7
        else:
            margin = (cpu_limit - cpu["max"] * current.vcpu / target.vcpu) / max(cpu_limit, 1.0)
            memory_text = (
                f"its CPU peak {cpu['max'] * current.vcpu / target.vcpu:.0f} %; memory was not observed (no memory "
                f"metric, e.g. no CloudWatch agent), so check that {target.memory_gib} GiB is enough"
            )
            base_confidence = 0.5
        findings.append(
            Finding(
                rule_id="rightsize_vm",
                profile=profile.name,
                title=f"Resize {vm.name} from {current.name} to {target.name}",
                description=(
                    f"On {target.name} ({target.vcpu} vCPU, {target.memory_gib} GiB) {vm.name} would run at "
                    f"CPU {profile.cpu_stat} {cpu_projected:.0f} % (limit {cpu_limit:.0f} %) and {memory_text}, "
                    f"measured over {days:.0f} days. {profile.source}."
                ),
                category=Category.COMPUTE,
                risk=RiskLevel.MEDIUM,
                confidence=data_confidence(base_confidence + 0.25 * min(1.0, margin * 4), days),
                savings_monthly=(now - after) * share,
                resources=[(vm, now * share)],
                actions=[action("resize", vm, f"Resize {vm.name} to {target.name}", size=target.name)],
                impact=ImpactAnalysis(
                    performance_impact=(
                        f"less headroom: projected CPU {profile.cpu_stat} {cpu_projected:.0f} %, memory "
                        + (f"{memory_projected:.0f} %" if memory_projected is not None else "not observed")
                    ),
                    availability_impact="the VM restarts once to change size (minutes of downtime)",
                    security_impact="none",
                ),
                changes=[
                    ResourceChange(
                        resource_id=rid,
                        change_type="resize",
                        before={"size": current.name},
                        after={"size": target.name},
                    )
                ],
                risks=[
                    "peaks outside the observed window may exceed the smaller size",
                    "a restart is needed; schedule it in a maintenance window",
                    *(
                        []
                        if memory_projected is not None
                        else [f"memory use was not observed: {target.memory_gib} GiB may be too little"]
                    ),
                ],
                rollback=f"resize back to {current.name} (one more restart)",
                evidence={
                    "cpu": dict(cpu),
                    "memory": dict(memory) if memory_projected is not None and memory else None,
                    "memory_observed": memory_projected is not None,
                    "network_in": dict(ctx.metric(rid, NET_IN) or {}),
                    "network_out": dict(ctx.metric(rid, NET_OUT) or {}),
                    "cpu_projected": round(cpu_projected, 2),
                    "memory_projected": round(memory_projected, 2) if memory_projected is not None else None,
                    "target": target.name,
                    "days": round(days, 1),
                    "price_source": list_source(ctx, vm, PriceKind.INSTANCE, current.name),
                },
            )
        )
    return findings


def stopped_vms(ctx: RuleContext) -> list[Finding]:
    """VMs stopped for ≥ the profile's days whose disks still bill → snapshot and delete the disks."""
    profile = ctx.settings.stopped_vm
    disks_of: dict[str, list[Resource]] = {}
    for resource in ctx.resources.values():
        attributes = resource.attributes
        if (
            isinstance(attributes, DiskAttributes)
            and attributes.attached_to
            and resource.state is not ResourceState.DELETED
        ):
            disks_of.setdefault(attributes.attached_to, []).append(resource)
    findings = []
    for vm in ctx.resources.values():  # disks by id, not in the order the inventory happened to be read
        disks = sorted(disks_of.get(vm.resource_id, []), key=lambda d: d.resource_id)
        if vm.kind is not ResourceKind.COMPUTE_INSTANCE or vm.state is not ResourceState.STOPPED or not disks:
            continue
        stopped_days = ctx.age_days(vm.stopped_at)
        if stopped_days < profile.min_days or ctx.any_excluded([vm, *disks]):
            continue
        if vm.resource_id in ctx.claimed or any(d.resource_id in ctx.claimed for d in disks):
            continue
        costs, sources = [], []
        for disk in disks:
            attributes = disk.attributes
            assert isinstance(attributes, DiskAttributes)
            price = ctx.prices.disk_monthly(
                disk.provider, disk.region, attributes.disk_type, attributes.size_gb
            )
            cost, source = whole_saving(ctx, disk, price, PriceKind.DISK, attributes.disk_type)
            costs.append(cost)
            sources.append(source)
        total = sum(costs, Decimal(0))
        findings.append(
            Finding(
                rule_id="stopped_vm_disks",
                profile=profile.name,
                title=f"Delete the disks of {vm.name}, stopped {stopped_days:.0f} days",
                description=(
                    f"{vm.name} has been stopped since {vm.stopped_at:%Y-%m-%d} ({stopped_days:.0f} days) but its "
                    f"{len(disks)} disk(s) still bill. Snapshot and delete them; the snapshots allow a "
                    f"restore. {profile.source}."
                ),
                category=Category.STORAGE,
                risk=RiskLevel.MEDIUM,
                confidence=0.9,
                savings_monthly=total,
                resources=[(vm, Decimal(0)), *zip(disks, costs, strict=True)],
                actions=[
                    action("snapshot_and_delete_disk", d, f"Snapshot and delete {d.name}") for d in disks
                ],
                impact=ImpactAnalysis(
                    performance_impact="none: the VM is not running",
                    availability_impact="the VM cannot be started until its disks are restored from snapshots",
                    security_impact="data stays in snapshots; check their retention and encryption",
                ),
                changes=[
                    ResourceChange(
                        resource_id=d.resource_id,
                        change_type="snapshot_and_delete",
                        before={"state": str(d.state)},
                        after={"state": "deleted", "snapshot": True},
                    )
                    for d in disks
                ],
                risks=[
                    "snapshots bill for their stored data until deleted",
                    "restoring takes time and new volume ids",
                ],
                rollback="restore each disk from its snapshot and attach it to the VM again",
                evidence={
                    "stopped_days": round(stopped_days, 1),
                    "disks": [d.resource_id for d in disks],
                    "price_source": "; ".join(dict.fromkeys(sources)),
                },
            )
        )
    return findings
