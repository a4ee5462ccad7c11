"""The provider contract suite: the same behaviour asserted against aws, azure, gcp and sandbox.

Each implementation's test module subclasses :class:`ProviderContract` and defines a ``facts`` fixture
returning :class:`ContractFacts` for a provider whose fake (moto, the strict Azure/GCP fakes, or a
generated sandbox estate) was seeded with those facts. Every test here must pass for every cloud.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from cloudoptima.clouds.protocol import (
    ActionKind,
    ActionRefusedError,
    ActionRequest,
    CloudProviderClient,
)
from cloudoptima.domain.inventory import MetricName, Resource, ResourceKind, ResourceState


@dataclass
class ContractFacts:
    """What the seeded fake holds; the contract checks the provider reports exactly that."""

    provider: CloudProviderClient
    running_instance_id: str
    instance_region: str | None
    smaller_size: str
    unattached_disk_id: str
    cost_start: date
    cost_end: date
    expected_cost_total: Decimal | None
    metric_start: date
    metric_end: date
    principal_with_key: str
    extra_checks: list[Callable[[CloudProviderClient], None]] = field(default_factory=list)


def _find(provider: CloudProviderClient, resource_id: str) -> Resource:
    inventory = provider.inventory()
    matches = [r for r in inventory.items if r.resource_id == resource_id]
    assert matches, (
        f"{resource_id} not in inventory ({len(inventory.items)} items, failures {inventory.failures})"
    )
    return matches[0]


def _disk_sizes(provider: CloudProviderClient) -> dict[str, int]:
    """Every disk in the inventory: id → size in GB."""
    inventory = provider.inventory()
    assert inventory.complete, inventory.failures
    return {
        r.resource_id: int(getattr(r.attributes, "size_gb", 0))
        for r in inventory.items
        if r.kind == ResourceKind.DISK
    }


class ProviderContract:
    """Mix into a test class; provide the ``facts`` fixture."""

    def test_verify_succeeds(self, facts: ContractFacts) -> None:
        result = facts.provider.verify()
        assert result.status == "verified", result
        assert result.missing_permissions == []

    def test_inventory_reports_seeded_resources(self, facts: ContractFacts) -> None:
        inventory = facts.provider.inventory()
        assert inventory.items, inventory.failures
        kinds = {r.kind for r in inventory.items}
        assert ResourceKind.COMPUTE_INSTANCE in kinds and ResourceKind.DISK in kinds
        instance = _find(facts.provider, facts.running_instance_id)
        assert instance.kind == ResourceKind.COMPUTE_INSTANCE
        assert instance.state == ResourceState.RUNNING
        assert instance.monthly_cost >= 0
        assert instance.created_at.tzinfo is not None
        disk = _find(facts.provider, facts.unattached_disk_id)
        assert disk.kind == ResourceKind.DISK
        assert getattr(disk.attributes, "attached_to", "x") is None
        assert all(isinstance(r.monthly_cost, Decimal) for r in inventory.items)

    def test_costs_are_daily_decimal_and_complete(self, facts: ContractFacts) -> None:
        costs = facts.provider.costs(facts.cost_start, facts.cost_end)
        assert costs.items, costs.failures
        assert all(facts.cost_start <= c.day < facts.cost_end for c in costs.items)
        assert all(isinstance(c.billed_cost, Decimal) for c in costs.items)
        assert all(len(c.currency) == 3 for c in costs.items)
        if facts.expected_cost_total is not None:
            assert sum(c.billed_cost for c in costs.items) == facts.expected_cost_total

    def test_utilisation_is_hourly_cpu(self, facts: ContractFacts) -> None:
        instance = _find(facts.provider, facts.running_instance_id)
        series = facts.provider.utilisation([instance], facts.metric_start, facts.metric_end)
        cpu = [
            s
            for s in series.items
            if s.metric == MetricName.CPU_PERCENT and s.resource_id == instance.resource_id
        ]
        assert cpu, series.failures
        hours = int((facts.metric_end - facts.metric_start).days * 24)
        assert cpu[0].start.minute == 0 and cpu[0].start.tzinfo is not None
        assert 0 < len(cpu[0].present()) <= hours
        assert all(0 <= v <= 100 for v in cpu[0].present())

    def test_iam_lists_principals_with_keys(self, facts: ContractFacts) -> None:
        principals = facts.provider.iam()
        named = [p for p in principals.items if facts.principal_with_key in (p.name, p.principal_id)]
        assert named, [p.name for p in principals.items]
        assert named[0].credentials, "the seeded principal has a key"
        assert all(c.created_at <= datetime.now(UTC) for c in named[0].credentials)

    def test_validate_changes_nothing_and_execute_is_idempotent_and_reversible(
        self, facts: ContractFacts
    ) -> None:
        provider = facts.provider
        stop = ActionRequest(
            kind=ActionKind.STOP, resource_id=facts.running_instance_id, region=facts.instance_region
        )
        verdict = provider.validate_action(stop)
        assert verdict.ok, verdict.problems
        assert verdict.rollback is not None and verdict.rollback.action is not None
        assert verdict.rollback.action.kind == ActionKind.START
        assert _find(provider, facts.running_instance_id).state == ResourceState.RUNNING, (
            "dry run changed state"
        )

        first = provider.execute_action(stop, "contract-stop-1")
        assert _find(provider, facts.running_instance_id).state == ResourceState.STOPPED
        again = provider.execute_action(stop, "contract-stop-1")
        assert again.status == first.status
        assert again.after == first.after

        assert first.rollback.action is not None
        provider.execute_action(first.rollback.action, "contract-stop-1-rollback")
        assert _find(provider, facts.running_instance_id).state == ResourceState.RUNNING

    def test_tag_and_untag(self, facts: ContractFacts) -> None:
        provider = facts.provider
        tag = ActionRequest(
            kind=ActionKind.TAG,
            resource_id=facts.running_instance_id,
            region=facts.instance_region,
            parameters={"tags": {"contract-owner": "finops"}},
        )
        result = provider.execute_action(tag, "contract-tag-1")
        assert _find(provider, facts.running_instance_id).tags.get("contract-owner") == "finops"
        assert result.rollback.action is not None and result.rollback.action.kind == ActionKind.UNTAG
        provider.execute_action(result.rollback.action, "contract-tag-1-rollback")
        assert "contract-owner" not in _find(provider, facts.running_instance_id).tags

    def test_unknown_resource_is_refused_clearly(self, facts: ContractFacts) -> None:
        missing = ActionRequest(
            kind=ActionKind.STOP, resource_id="does-not-exist-123", region=facts.instance_region
        )
        verdict = facts.provider.validate_action(missing)
        assert not verdict.ok
        assert any("does-not-exist-123" in problem for problem in verdict.problems)
        with pytest.raises(ActionRefusedError, match="does-not-exist-123"):
            facts.provider.execute_action(missing, "contract-missing-1")

    def test_resize_to_unknown_size_is_refused(self, facts: ContractFacts) -> None:
        bad = ActionRequest(
            kind=ActionKind.RESIZE,
            resource_id=facts.running_instance_id,
            region=facts.instance_region,
            parameters={"size": "no-such-size.huge"},
        )
        verdict = facts.provider.validate_action(bad)
        assert not verdict.ok
        assert any("no-such-size.huge" in problem for problem in verdict.problems)
        good = bad.model_copy(update={"parameters": {"size": facts.smaller_size}})
        good_verdict = facts.provider.validate_action(good)
        assert good_verdict.ok, good_verdict.problems
        assert good_verdict.rollback is not None
        assert good_verdict.rollback.action is not None
        assert good_verdict.rollback.action.kind == ActionKind.RESIZE

    def test_snapshot_and_delete_disk_rolls_back_through_restore_disk(self, facts: ContractFacts) -> None:
        provider = facts.provider
        disk = _find(provider, facts.unattached_disk_id)
        size = getattr(disk.attributes, "size_gb", None)
        assert size is not None, disk.attributes
        delete = ActionRequest(
            kind=ActionKind.SNAPSHOT_AND_DELETE_DISK, resource_id=disk.resource_id, region=disk.region
        )
        deleted = provider.execute_action(delete, "contract-disk-1")
        assert disk.resource_id not in _disk_sizes(provider), "snapshot_and_delete left the disk in place"
        plan = deleted.rollback
        assert plan.irreversible is None and plan.action is not None, plan
        assert plan.action.kind == ActionKind.RESTORE_DISK
        assert plan.action.resource_id == disk.resource_id
        assert plan.evidence.get("note"), "the plan says whether the restored disk gets a new id"

        disks_before = _disk_sizes(provider)
        verdict = provider.validate_action(plan.action)
        assert verdict.ok, verdict.problems
        assert _disk_sizes(provider) == disks_before, "validating the restore changed the inventory"

        restored = provider.execute_action(plan.action, "contract-disk-1-rollback")
        new_id = restored.after["disk_id"]
        disks_after = _disk_sizes(provider)
        assert disks_after.get(new_id) == size, (new_id, disks_after)
        assert len(disks_after) == len(disks_before) + 1
        assert restored.rollback.action is None or restored.rollback.action.kind != (
            ActionKind.SNAPSHOT_AND_DELETE_DISK
        )

        again = provider.execute_action(plan.action, "contract-disk-1-rollback")
        assert again.after == restored.after
        assert _disk_sizes(provider) == disks_after, "a repeated key created a second disk"

    def test_extra_checks(self, facts: ContractFacts) -> None:
        for check in facts.extra_checks:
            check(facts.provider)
