"""Rule engine behaviour on small hand-built inventories (prices from the sandbox catalogue)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from cloudoptima.analytics.recommendations import (
    AnomalyScope,
    RuleSettings,
    generate_recommendations,
)
from cloudoptima.analytics.recommendations.profiles import AWS_TRUSTED_ADVISOR_LOW_UTILISATION
from cloudoptima.clouds.protocol import ActionKind
from cloudoptima.domain.inventory import (
    CloudProvider,
    DiskAttributes,
    InstanceAttributes,
    LoadBalancerAttributes,
    PublicIpAttributes,
    Resource,
    ResourceKind,
    ResourceState,
    SnapshotAttributes,
)
from cloudoptima.domain.recommendations import PROVIDER_ACTION_KINDS, Recommendation
from cloudoptima.services.pricing import SandboxPriceCatalog

NOW = datetime(2026, 1, 1, tzinfo=UTC)
PRICES = SandboxPriceCatalog()


def _summary(avg: float, p99: float, *, days: float = 30, mx: float | None = None) -> dict[str, float]:
    return {"avg": avg, "max": mx if mx is not None else p99, "p95": p99, "p99": p99, "samples": days * 24}


def vm(
    rid: str,
    itype: str = "m5.xlarge",
    *,
    tags: dict[str, str] | None = None,
    state: ResourceState = ResourceState.RUNNING,
    stopped_days: float | None = None,
    age_days: float = 200,
    schedule: str = "always",
) -> Resource:
    family, vcpu, mem = {"m5.xlarge": ("m5", 4, "16"), "m5.large": ("m5", 2, "8")}[itype]
    return Resource(
        resource_id=rid,
        name=rid,
        kind=ResourceKind.COMPUTE_INSTANCE,
        provider=CloudProvider.AWS,
        account_id="111111111111",
        region="us-east-1",
        service_name="Amazon Elastic Compute Cloud",
        sku_id="sku",
        attributes=InstanceAttributes(
            instance_type=itype,
            family=family,
            vcpu=vcpu,
            memory_gib=Decimal(mem),
            schedule=schedule,  # type: ignore[arg-type]
        ),
        tags=tags or {},
        monthly_cost=Decimal("140.16"),
        state=state,
        created_at=NOW - timedelta(days=age_days),
        launched_at=NOW - timedelta(days=age_days),
        stopped_at=NOW - timedelta(days=stopped_days) if stopped_days is not None else None,
    )


def metrics(
    cpu: tuple[float, float], memory: tuple[float, float] = (50, 60), net: float = 4e8, days: float = 30
) -> dict[str, Any]:
    return {
        "cpu_percent": _summary(*cpu, days=days),
        "memory_percent": _summary(*memory, days=days),
        "network_in_bytes": _summary(net, net * 2, days=days),
        "network_out_bytes": _summary(net * 0.6, net, days=days),
    }


def run(resources: list[Resource], util: dict[str, Any], **kwargs: Any) -> list[Recommendation]:
    return generate_recommendations(resources, util, PRICES, as_of=NOW, **kwargs)


IDLE = metrics((1.2, 3.5), net=2e4)


def test_idle_vm_is_stopped_with_the_catalogue_saving() -> None:
    [rec] = run([vm("i-idle")], {"i-idle": IDLE})
    assert rec.rule_id == "idle_vm"
    assert [(a.type, a.resource_id) for a in rec.actions] == [("stop", "i-idle")]
    assert rec.estimated_savings_monthly == Decimal("140.16")  # 0.192 $/h × 730
    assert rec.estimated_savings_annual == Decimal("1681.92")
    assert rec.impact_preview.current_monthly == Decimal("140.16")
    assert rec.impact_preview.projected_monthly == Decimal("0.00")
    assert rec.impact_preview.rollback


def test_weekday_schedule_counts_only_billed_hours() -> None:
    [rec] = run([vm("i-idle", schedule="weekdays")], {"i-idle": IDLE})
    assert rec.estimated_savings_monthly == Decimal("100.11")  # 140.16 × 5/7


def test_bursty_vm_with_low_average_is_not_idle_by_default_but_is_for_trusted_advisor() -> None:
    bursty = {"i-batch": metrics((7.5, 96.0), net=2e4)}
    assert run([vm("i-batch")], bursty) == []
    flagged = run([vm("i-batch")], bursty, settings=RuleSettings(idle_vm=AWS_TRUSTED_ADVISOR_LOW_UTILISATION))
    assert [r.profile for r in flagged] == ["aws_trusted_advisor_low_utilization"]


@pytest.mark.parametrize(
    "tags",
    [
        {"cloudoptima:ignore": "true"},
        {"Do-Not-Optimize": "TRUE"},
        {"FinOps:Exclude": "yes"},
        {"do-not-optimize": ""},
    ],
)
def test_exclusion_tags_are_case_insensitive(tags: dict[str, str]) -> None:
    assert run([vm("i-idle", tags=tags)], {"i-idle": IDLE}) == []


def test_exclusion_tag_set_to_false_does_not_exclude() -> None:
    assert len(run([vm("i-idle", tags={"cloudoptima:ignore": "false"})], {"i-idle": IDLE})) == 1


def test_too_little_data_means_no_recommendation() -> None:
    assert run([vm("i-idle")], {"i-idle": metrics((1.2, 3.5), net=2e4, days=13)}) == []
    assert run([vm("i-idle")], {}) == []


def test_rightsizing_to_next_smaller_size_when_cpu_and_memory_fit_with_headroom() -> None:
    # On m5.large (half the vCPUs and memory) p99 CPU 70 % and memory 76 % stay under the 80 % limit.
    [rec] = run([vm("i-big")], {"i-big": metrics((20, 35), memory=(30, 38))})
    assert rec.rule_id == "rightsize_vm"
    assert [(a.type, a.parameters) for a in rec.actions] == [("resize", {"size": "m5.large"})]
    assert rec.estimated_savings_monthly == Decimal("70.08")


def _rules(recs: list[Recommendation]) -> list[str]:
    return [r.rule_id for r in recs]


def test_rightsizing_refused_when_it_would_break_headroom() -> None:
    # CPU 82 % > 80 % on the smaller size; then memory 82 % > 80 %; then no smaller size in the family.
    assert "rightsize_vm" not in _rules(run([vm("i-big")], {"i-big": metrics((20, 41), memory=(30, 38))}))
    assert "rightsize_vm" not in _rules(run([vm("i-big")], {"i-big": metrics((20, 35), memory=(30, 41))}))
    small = run([vm("i-small", "m5.large")], {"i-small": metrics((5, 10), memory=(10, 12), net=4e8)})
    assert "rightsize_vm" not in _rules(small)


def _disk(
    rid: str, attached_to: str | None, *, detached_days: float | None = None, age: float = 100
) -> Resource:
    return Resource(
        resource_id=rid,
        name=rid,
        kind=ResourceKind.DISK,
        provider=CloudProvider.AWS,
        account_id="111111111111",
        region="us-east-1",
        service_name="Amazon Elastic Compute Cloud",
        sku_id="sku",
        attributes=DiskAttributes(
            disk_type="gp3",
            size_gb=100,
            attached_to=attached_to,
            detached_at=NOW - timedelta(days=detached_days) if detached_days is not None else None,
        ),
        monthly_cost=Decimal(8),
        state=ResourceState.AVAILABLE if attached_to is None else ResourceState.IN_USE,
        created_at=NOW - timedelta(days=age),
    )


def test_unattached_disk_needs_fifteen_days() -> None:
    [rec] = run([_disk("vol-old", None, detached_days=20), _disk("vol-new", None, age=3)], {})
    assert rec.resource_ids == ("vol-old",)
    assert [a.type for a in rec.actions] == ["snapshot_and_delete_disk"]
    assert rec.estimated_savings_monthly == Decimal("8.00")


def test_vm_stopped_over_30_days_loses_its_disks_and_a_recent_stop_does_not() -> None:
    old = vm("i-old", state=ResourceState.STOPPED, stopped_days=40)
    recent = vm("i-recent", state=ResourceState.STOPPED, stopped_days=10)
    recs = run([old, recent, _disk("vol-a", "i-old"), _disk("vol-b", "i-recent")], {})
    assert [(r.rule_id, r.resource_ids) for r in recs] == [("stopped_vm_disks", ("i-old", "vol-a"))]
    assert [(a.type, a.resource_id) for a in recs[0].actions] == [("snapshot_and_delete_disk", "vol-a")]


def _snapshot(rid: str, source: str) -> Resource:
    return Resource(
        resource_id=rid,
        name=rid,
        kind=ResourceKind.SNAPSHOT,
        provider=CloudProvider.AWS,
        account_id="111111111111",
        region="us-east-1",
        service_name="Amazon Elastic Compute Cloud",
        sku_id="sku",
        attributes=SnapshotAttributes(size_gb=200, source_disk_id=source),
        monthly_cost=Decimal(10),
        state=ResourceState.RUNNING,
        created_at=NOW - timedelta(days=120),
    )


def test_only_snapshots_of_deleted_volumes_are_deleted() -> None:
    recs = run(
        [_snapshot("snap-orphan", "vol-gone"), _snapshot("snap-live", "vol-a"), _disk("vol-a", "i-x")], {}
    )
    assert [(r.rule_id, r.resource_ids, r.actions[0].type) for r in recs] == [
        ("orphaned_snapshot", ("snap-orphan",), "delete_snapshot")
    ]
    assert recs[0].risk_level == "high"


def test_unassociated_ip_is_released_and_idle_load_balancer_is_marked() -> None:
    base: dict[str, Any] = {
        "provider": CloudProvider.AWS,
        "account_id": "111111111111",
        "region": "us-east-1",
        "service_name": "svc",
        "sku_id": "sku",
        "monthly_cost": Decimal(1),
        "created_at": NOW - timedelta(days=30),
    }
    ip = Resource(
        resource_id="eip-1",
        name="ip",
        kind=ResourceKind.PUBLIC_IP,
        state=ResourceState.AVAILABLE,
        attributes=PublicIpAttributes(address="203.0.113.9"),
        **base,
    )
    lb = Resource(
        resource_id="lb-1",
        name="lb",
        kind=ResourceKind.LOAD_BALANCER,
        state=ResourceState.RUNNING,
        attributes=LoadBalancerAttributes(lb_type="application"),
        **base,
    )
    recs = {r.rule_id: r for r in run([ip, lb], {})}
    assert recs["unassociated_ip"].actions[0].type == "release_ip"
    assert recs["unassociated_ip"].estimated_savings_monthly == Decimal("3.65")
    assert recs["idle_load_balancer"].actions[0].type == "tag"
    assert recs["idle_load_balancer"].manual_steps


def test_commitment_groups_steady_vms_and_skips_idle_and_anomaly_launches() -> None:
    steady = [vm(f"i-app-{n}") for n in range(3)]
    fleet = vm("i-expansion", age_days=45)
    util = {r.resource_id: metrics((45, 80), memory=(65, 85)) for r in [*steady, fleet]}
    util["i-idle"] = IDLE
    scope = AnomalyScope(
        start=(NOW - timedelta(days=45)).date(),
        end=(NOW - timedelta(days=35)).date(),
        account_id="111111111111",
        region="us-east-1",
        usage_type="BoxUsage:m5.xlarge",
    )
    recs = run([*steady, fleet, vm("i-idle")], util, anomaly_scopes=[scope])
    commitments = [r for r in recs if r.rule_id == "commitment_coverage"]
    assert [sorted(c.resource_ids) for c in commitments] == [["i-app-0", "i-app-1", "i-app-2"]]
    assert commitments[0].actions == [] and commitments[0].manual_steps
    assert commitments[0].estimated_savings_monthly == Decimal("155.58")  # 3 × 140.16 × (1 − 0.63)
    without_anomaly = run([*steady, fleet], util)
    assert sorted(without_anomaly[0].resource_ids) == ["i-app-0", "i-app-1", "i-app-2", "i-expansion"]


def test_fingerprint_is_stable_and_depends_on_the_action() -> None:
    first = run([vm("i-idle")], {"i-idle": IDLE})[0].fingerprint
    assert run([vm("i-idle")], {"i-idle": IDLE})[0].fingerprint == first
    resize = run([vm("i-idle")], {"i-idle": metrics((20, 35), memory=(30, 38))})[0]
    assert resize.fingerprint != first


def test_sorted_by_priority_and_actions_use_provider_action_kinds() -> None:
    resources = [vm("i-idle"), vm("i-big"), _disk("vol-old", None, detached_days=40)]
    util = {"i-idle": IDLE, "i-big": metrics((20, 35), memory=(30, 38))}
    recs = run(resources, util)
    assert [r.priority for r in recs] == sorted((r.priority for r in recs), reverse=True)
    assert set(PROVIDER_ACTION_KINDS) <= {k.value for k in ActionKind}
    assert {a.type for r in recs for a in r.actions} <= {k.value for k in ActionKind}


def test_naive_as_of_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone"):
        generate_recommendations([], {}, PRICES, as_of=datetime(2026, 1, 1))  # noqa: DTZ001


def test_anomaly_scope_window() -> None:
    scope = AnomalyScope(start=date(2025, 11, 1), end=date(2025, 11, 20), account_id="111111111111")
    late = vm("i-late", age_days=(NOW.date() - date(2025, 11, 10)).days)
    util = {"i-late": metrics((45, 80), memory=(65, 85))}
    # launched 9 days after the anomaly began: not part of it, so it is committed to
    assert [r.rule_id for r in run([late], util, anomaly_scopes=[scope])] == ["commitment_coverage"]


def test_unassociated_ip_is_flagged_on_first_sight_unless_a_grace_profile_is_chosen() -> None:
    """Trusted Advisor flags an unassociated address at once (it bills from the first hour); the Custodian
    profile waits 7 days."""
    from cloudoptima.analytics.recommendations.profiles import UNASSOCIATED_IP_GRACE

    fresh = Resource(
        resource_id="eip-new", name="new-ip", kind=ResourceKind.PUBLIC_IP, provider=CloudProvider.AWS,
        account_id="111111111111", region="us-east-1", service_name="svc", sku_id="sku", monthly_cost=Decimal(1),
        state=ResourceState.AVAILABLE, attributes=PublicIpAttributes(address="203.0.113.10"), created_at=NOW,
    )  # fmt: skip
    [rec] = run([fresh], {})
    assert rec.rule_id == "unassociated_ip" and rec.estimated_savings_monthly == Decimal("3.65")
    assert "first sight" in rec.description
    assert run([fresh], {}, settings=RuleSettings(unassociated_ip=UNASSOCIATED_IP_GRACE)) == []
    tagged = fresh.model_copy(update={"tags": {"do-not-optimize": "true"}})
    assert run([tagged], {}) == []


def _without_memory(cpu: tuple[float, float], *, peak: float, days: float = 30) -> dict[str, Any]:
    observed = metrics(cpu, days=days)
    observed.pop("memory_percent")
    observed["cpu_percent"]["max"] = peak
    return observed


def test_rightsizing_without_memory_metrics_keeps_the_cpu_peak_and_says_memory_was_not_seen() -> None:
    # No CloudWatch agent: CPU p99 35 % and peak 38 % fit m5.large at 70 % / 76 % (< 80 %).
    [rec] = run([vm("i-noagent")], {"i-noagent": _without_memory((20, 35), peak=38)})
    assert rec.rule_id == "rightsize_vm" and rec.risk_level == "medium"
    assert "memory was not observed" in rec.description
    assert any("memory use was not observed" in risk for risk in rec.impact_preview.risks)
    assert rec.evidence["memory_observed"] is False
    with_memory = run([vm("i-agent")], {"i-agent": metrics((20, 35), memory=(30, 38))})
    assert rec.confidence < with_memory[0].confidence
    # The observed peak must fit too: a 45 % spike would run at 90 % on half the vCPUs.
    assert "rightsize_vm" not in _rules(run([vm("i-spiky")], {"i-spiky": _without_memory((20, 35), peak=45)}))
    # Neither memory nor network observed: no evidence beyond CPU, no advice.
    cpu_only = _without_memory((20, 35), peak=38)
    del cpu_only["network_in_bytes"], cpu_only["network_out_bytes"]
    assert "rightsize_vm" not in _rules(run([vm("i-cpu")], {"i-cpu": cpu_only}))
    # Some memory samples but fewer than the profile's days: too little to judge, not "unknown".
    partial = _without_memory((20, 35), peak=38)
    partial["memory_percent"] = _summary(30, 38, days=3)
    assert "rightsize_vm" not in _rules(run([vm("i-partial")], {"i-partial": partial}))


def test_idle_vm_of_an_unpriced_size_is_listed_with_its_price_source() -> None:
    """A size the catalogue does not know is never dropped: its own reported cost, else "price unknown"."""
    base = vm("i-exotic")
    exotic = base.model_copy(
        update={"attributes": base.attributes.model_copy(update={"instance_type": "x9z.metal-48xl"})}
    )
    [own] = run([exotic.model_copy(update={"monthly_cost": Decimal("812.50")})], {"i-exotic": IDLE})
    assert own.rule_id == "idle_vm" and own.estimated_savings_monthly == Decimal("812.50")
    assert own.evidence["price_source"] == "the resource's own monthly cost as the cloud reported it"
    [unknown] = run([exotic.model_copy(update={"monthly_cost": Decimal(0)})], {"i-exotic": IDLE})
    assert unknown.estimated_savings_monthly == Decimal(0)
    assert unknown.evidence["price_source"] == "price unknown"
    assert "Price unknown for x9z.metal-48xl in us-east-1" in unknown.description
    [priced] = run([vm("i-idle")], {"i-idle": IDLE})
    assert priced.evidence["price_source"].startswith("list price of the price catalogue")
