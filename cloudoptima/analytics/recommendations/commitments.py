"""Commitment coverage: steady 24x7 on-demand VMs grouped per (account, region, family) → a 1-year commitment.

Contract (thresholds in ``profiles.CommitmentProfile``): a VM is steady when it is running on the ``always``
schedule, was launched ≥ ``steady_days`` ago, has CPU samples for ≥ ``steady_days × min_sample_coverage``
days, is not excluded, not covered by another finding of this run (idle, rightsizing: fix the size first),
not spiky (average CPU ≤ ``bursty_max_avg_cpu`` with p99 ≥ ``bursty_min_p99_cpu``: a burstable or spot
candidate whose size is not settled) and not launched inside an open cost anomaly. What is already owned is
not suggested again: the group's VMs (ordered by id) are taken as covered while their normalised size units
fit in the active Reserved Instances' units of the same (account, region, family) (``ctx.owned_units``), then
while their on-demand monthly cost fits in what the active EC2 Instance Savings Plans of that cell cover
(``ctx.owned_plan_hourly`` / commitment rate × 730: the on-demand spend the plan's $/h pays for), then while
their vCPUs and memory fit in the active GCP committed-use discounts of the cell (``ctx.owned_cud``), then
while their on-demand cost fits in what the account's savings plans bound to no family or region (AWS Compute
Savings Plans, Azure savings plans: ``ctx.owned_compute_hourly``) have left, that budget being spent across
the account's groups in (region, family) order; only the VMs left form the finding (none left: no finding).
Azure reservations come in through ``ctx.owned_units`` (one unit per reserved VM of the size's family).
Saving =
``Σ on-demand monthly × (1 − commitment rate)`` from the price catalogue. Buying a commitment is not a
provider action: the purchase is a manual step and the recommendation carries no actions.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from cloudoptima.analytics.recommendations.build import Finding, list_source
from cloudoptima.analytics.recommendations.context import RuleContext, data_confidence
from cloudoptima.domain.inventory import InstanceAttributes, Resource, ResourceKind, ResourceState
from cloudoptima.domain.owned_commitments import size_units
from cloudoptima.domain.prices import PriceKind
from cloudoptima.domain.recommendations import Category, ImpactAnalysis, ResourceChange, RiskLevel

CPU = "cpu_percent"


def _steady(ctx: RuleContext, vm: Resource) -> bool:
    profile = ctx.settings.commitment
    attributes = vm.attributes
    if vm.kind is not ResourceKind.COMPUTE_INSTANCE or vm.state is not ResourceState.RUNNING:
        return False
    if not isinstance(attributes, InstanceAttributes) or attributes.schedule != "always":
        return False
    if vm.resource_id in ctx.claimed or ctx.excluded(vm):
        return False
    if ctx.age_days(vm.launched_at or vm.created_at) < profile.steady_days:
        return False
    cpu = ctx.metric(vm.resource_id, CPU)
    if (
        cpu is None
        or ctx.sample_days(vm.resource_id, CPU) < profile.steady_days * profile.min_sample_coverage
    ):
        return False
    if cpu["avg"] <= profile.bursty_max_avg_cpu and cpu["p99"] >= profile.bursty_min_p99_cpu:
        return False
    return not ctx.in_open_anomaly(vm, attributes.instance_type)


def _instance_type(vm: Resource) -> str:
    attributes = vm.attributes
    assert isinstance(attributes, InstanceAttributes)
    return attributes.instance_type


def _uncovered(members: list[tuple[Resource, Decimal]], owned: Decimal) -> list[tuple[Resource, Decimal]]:
    """The members left once those fitting in ``owned`` units are taken as covered (in order)."""
    left = []
    for vm, cost in members:
        units = size_units(_instance_type(vm))
        if units <= owned:
            owned -= units
        else:
            left.append((vm, cost))
    return left


def _uncovered_cost(
    members: list[tuple[Resource, Decimal]], budget: Decimal
) -> list[tuple[Resource, Decimal]]:
    """The members left once those whose monthly on-demand cost fits in ``budget`` are taken (in order)."""
    left = []
    for vm, cost in members:
        if cost <= budget:
            budget -= cost
        else:
            left.append((vm, cost))
    return left


def _uncovered_cud(
    members: list[tuple[Resource, Decimal]], owned: tuple[int, int]
) -> list[tuple[Resource, Decimal]]:
    """The members left once those whose vCPUs and memory fit in ``owned`` (vCPUs, MB) are taken (in order)."""
    vcpus, memory = Decimal(owned[0]), Decimal(owned[1])
    left = []
    for vm, cost in members:
        attributes = vm.attributes
        assert isinstance(attributes, InstanceAttributes)
        need_memory = attributes.memory_gib * 1024
        if attributes.vcpu <= vcpus and need_memory <= memory:
            vcpus -= attributes.vcpu
            memory -= need_memory
        else:
            left.append((vm, cost))
    return left


def _uncovered_by_plans(
    members: list[tuple[Resource, Decimal]], remaining: dict[str, Decimal], account_id: str, rate: Decimal
) -> list[tuple[Resource, Decimal]]:
    """The members left once the account's remaining plan $/h paid for those it can (in order); spends it."""
    left = []
    for vm, cost in members:
        needed = cost * rate / Decimal(730)
        if needed <= remaining.get(account_id, Decimal(0)):
            remaining[account_id] -= needed
        else:
            left.append((vm, cost))
    return left


def commitment_coverage(ctx: RuleContext) -> list[Finding]:
    """One finding per (account, region, family) of steady VMs (see module contract)."""
    profile = ctx.settings.commitment
    groups: dict[tuple[str, str, str], list[tuple[Resource, Decimal]]] = defaultdict(list)
    for vm in ctx.resources.values():
        if not _steady(ctx, vm):
            continue
        attributes = vm.attributes
        assert isinstance(attributes, InstanceAttributes)
        monthly = ctx.prices.instance_monthly(vm.provider, vm.region, attributes.instance_type)
        if monthly is not None:
            groups[(vm.account_id, vm.region, attributes.family)].append((vm, monthly))
    findings = []
    plans_left = dict(ctx.owned_compute_hourly)
    for (account_id, region, family), members in sorted(groups.items()):
        provider = members[0][0].provider
        rate = ctx.prices.commitment_rate(provider)
        if rate is None or not 0 < rate < 1:
            continue
        members.sort(key=lambda item: item[0].resource_id)
        members = _uncovered(members, ctx.owned_units.get((account_id, region, family), Decimal(0)))
        plan_hourly = ctx.owned_plan_hourly.get((account_id, region, family), Decimal(0))
        members = _uncovered_cost(members, plan_hourly / rate * 730 if plan_hourly > 0 else Decimal(0))
        members = _uncovered_cud(members, ctx.owned_cud.get((account_id, region, family), (0, 0)))
        members = _uncovered_by_plans(members, plans_left, account_id, rate)
        if not members:
            continue
        on_demand = sum((cost for _, cost in members), Decimal(0))
        hourly = (on_demand / Decimal(730) * rate).quantize(Decimal("0.000001"))
        days = min(ctx.sample_days(vm.resource_id, CPU) for vm, _ in members)
        findings.append(
            Finding(
                rule_id="commitment_coverage",
                profile=profile.name,
                title=f"Commit to {len(members)} steady {family} VM(s) in {region}",
                description=(
                    f"{len(members)} VM(s) of family {family} in {region} (account {account_id}) ran 24x7 on "
                    f"demand for {profile.steady_days}+ days. A 1-year no-upfront commitment of "
                    f"${hourly}/h pays {rate:.0%} of the on-demand price. {profile.source}."
                ),
                category=Category.COMPUTE,
                risk=RiskLevel.HIGH,
                confidence=data_confidence(0.8, days, 60.0),
                savings_monthly=on_demand * (1 - rate),
                resources=members,
                actions=[],
                manual_steps=[
                    f"buy a 1-year no-upfront commitment of ${hourly}/h for {family} in {region} "
                    f"(account {account_id})"
                ],
                impact=ImpactAnalysis(
                    performance_impact="none: billing changes, the VMs do not",
                    availability_impact="none",
                    security_impact="none",
                ),
                changes=[
                    ResourceChange(
                        resource_id=vm.resource_id,
                        change_type="commit",
                        before={"pricing": "on_demand"},
                        after={"pricing": "commitment_1y_no_upfront"},
                    )
                    for vm, _ in members
                ],
                risks=["a 1-year financial commitment: it is paid even if the VMs are stopped or resized"],
                rollback="none: commitments cannot be cancelled (some can be exchanged or sold)",
                evidence={
                    "family": family,
                    "members": len(members),
                    "hourly_commitment_usd": str(hourly),
                    "rate": str(rate),
                    "min_days": round(days, 1),
                    "price_source": "; ".join(
                        dict.fromkeys(
                            list_source(ctx, vm, PriceKind.INSTANCE, _instance_type(vm)) for vm, _ in members
                        )
                    ),
                },
            )
        )
    return findings
